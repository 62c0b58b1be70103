"""REST API of petition records (/api/v1/): petitioners, cases, visits, attachments, history."""
