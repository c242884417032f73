package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	"k8s.io/apimachinery/pkg/util/duration"
)

func tw(text string, minw, tabw, pad int, padc byte) string {
	buf := &bytes.Buffer{}
	w := tabwriter.NewWriter(buf, minw, tabw, pad, padc, 0)
	fmt.Fprint(w, text)
	w.Flush()
	return buf.String()
}

func main() {
	out := map[string]interface{}{}
	var texts []string
	json.NewDecoder(os.Stdin).Decode(&texts)
	describe := []string{}
	tables := []string{}
	for _, t := range texts {
		describe = append(describe, tw(t, 0, 8, 1, '\t'))
		tables = append(tables, tw(t, 6, 4, 3, ' '))
	}
	out["describe"] = describe
	out["tables"] = tables
	ns := []int64{0, 1, 999, 1000, 1500, 999999, 1000000, 1500000, 999999999, 1000000000, 1500000000, 59 * 1e9, 60 * 1e9, 95 * 1e9, 3600 * 1e9, 3605 * 1e9, 90061 * 1e9, -5 * 1e9, 61500000000}
	d := map[string]string{}
	for _, n := range ns {
		d[fmt.Sprint(n)] = time.Duration(n).String()
	}
	out["durations"] = d
	secs := []int64{0, 1, 2, 59, 60, 61, 119, 120, 599, 600, 3599, 3600, 5399, 5400, 7200, 47 * 3600, 48 * 3600, 13 * 86400, 14 * 86400, 59 * 86400, 60 * 86400, 729 * 86400, 730 * 86400, 3000 * 86400, 179 * 60, 180 * 60, 8 * 3600, 7*3600 + 59*60, 7 * 86400, 7*86400 + 3600, 8 * 86400, 3*365*86400 + 5*86400}
	h := map[string]string{}
	s := map[string]string{}
	for _, x := range secs {
		h[fmt.Sprint(x)] = units.HumanDuration(time.Duration(x) * time.Second)
		s[fmt.Sprint(x)] = duration.HumanDuration(time.Duration(x) * time.Second)
	}
	out["human"] = h
	out["short"] = s
	t := time.Date(2024, 5, 1, 12, 3, 4, 0, time.UTC)
	out["rfc1123"] = t.Format(time.RFC1123)
	out["timestring"] = t.String()
	json.NewEncoder(os.Stdout).Encode(out)
}
