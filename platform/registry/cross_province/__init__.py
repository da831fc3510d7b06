"""Cross-province matches (跨省重复登记核查): pairs the ministry found of one person registered in this province and
in another, pulled back over the exchange, for the province's reviewers to check and settle."""
