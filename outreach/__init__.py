"""Going to the people (DOMAIN.md §8): 带案巡视 (tours that carry cases), 下访 and 约访 (visits to
the petitioner and appointments), leaders' reception days (领导接访日), 司法救助 (judicial aid) and
text messages to the petitioner. Above campaigns: a tour may carry a campaign's backlog, and aid
granted shows on a campaign's matter."""
