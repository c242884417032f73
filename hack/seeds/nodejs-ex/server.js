// A stand-in for github.com/openshift/nodejs-ex's server (no network here, so
// no npm dependencies): answers on 8080 with the Node.js version.
const http = require('http');
const port = process.env.PORT || 8080;
http.createServer((req, res) => {
  res.writeHead(200, {'Content-Type': 'text/plain'});
  res.end(`Hello from nodejs-ex on Node.js ${process.version}\n`);
}).listen(port, () => console.log(`Listening on ${port}`));
