"""The API face of Account Management: cloud accounts and jobs."""
