// Integration tests: see helpers.rs
