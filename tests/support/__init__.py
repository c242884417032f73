"""Helpers shared by the test tiers: real registries, token servers, test images."""
