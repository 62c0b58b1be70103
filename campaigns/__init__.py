"""Campaigns (专项活动, DOMAIN.md §8): backlog clearing (积案化解), periodic sweeps (排查) and quality
review (案件评查), above supervision: matters are handed down with 包案 (supervision's leader
responsibility), followed with progress entries and the existing 催办 and 督办 overlays, and findings
of a review open 责任倒查 and feed 通报 through supervision's services."""
