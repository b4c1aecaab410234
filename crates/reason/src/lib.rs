//! Automated reasoning over IAM policies (issue 7; design in docs/decisions/006).
