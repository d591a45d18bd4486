//! The rules of the Zendesk ⇄ Salesforce sync: Salesforce records into domain types,
//! mapping files, evaluation of accounts, the diff into a reviewable plan, the safety
//! guards, and the report. Evaluation and diff are pure: no I/O, no clock.
