// Fixture-sized variants of the shipped specs, compiled by the speccc plugin for the parity
// tests. Each <name>.spec includes a spec from Specs/ with other parameters; the matching
// reference checkpoint, input and logits are Tests/Fixtures/<name>.* (Scripts/make_fixtures.py).
