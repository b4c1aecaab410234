//! Policy validation like IAM Access Analyzer's ValidatePolicy (being written).
