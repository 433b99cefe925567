"""The course's own tooling for maintainers (never imported by ``helpers`` or a notebook); see docs/maintainers.md."""
