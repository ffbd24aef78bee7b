"""The access review: IAM evaluation, who can do what where, the report (text, Markdown, JSON),
the guard a run is judged by, and the `ecr-platform-check` command (`make check`)."""
