"""The query languages: Logs Insights and filter patterns, parsed, planned and run as SQL."""
