"""The Logs Insights language: tokens, AST and parser."""
