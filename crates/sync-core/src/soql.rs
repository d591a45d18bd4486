//! The three SOQL queries of the sync, verbatim from the page that describes the
//! original system (`reference/original-design.md`). Each is one constant and is
//! snapshot-tested, so any change to the text shows up in review.

/// Global organizations sync: Salesforce accounts with their customer subscriptions, Zuora subscriptions and Zuora billing accounts (sold-to emails).
pub const GLOBAL_ACCOUNTS: &str = r#"SELECT
  Account.Account_ID_18__c,
  Account.Name,
  Account.CARR_This_Account__c,
  Account.Ultimate_Parent_Sales_Segment_Employees__c,
  Account.Account_Owner_Calc__c,
  Account.Number_of_Licenses_This_Account__c,
  Account.Type,
  Account.Technical_Account_Manager_Name__c,
  Account.Account_Demographics_Geo__c,
  Account.GS_Health_Score_Color__c,
  Account.Next_Renewal_Date__c,
  Account.Restricted_Account__c,
  Account.Partners_Partner_Status__c,
  Account.Partners_Partner_Type__c,
  Account.Partner_Track__c,
  (SELECT
     Current_Subscription_Status__c,
     Current_Term_End_Date__c,
     Current_Term_Start_Date__c,
     Entitled_Seats__c,
     Product_Tier_Name_Short__c,
     Plan_Name__c
   FROM Customer_Subscriptions__r
   WHERE Current_Subscription_Status__c = 'Active'),
  (SELECT
     Name,
     Zuora__Status__c,
     Zuora__SubscriptionEndDate__c,
     Zuora__SubscriptionStartDate__c,
     Support_Level__c,
     Zuora__OpportunityName__c,
     Zuora__SubscriptionNumber__c
   FROM Zuora__Subscriptions__r
   WHERE Zuora__Status__c = 'Active'),
  (SELECT
     Name,
     Zuora__SoldToWorkEmail__c
   FROM Zuora__R00N40000001kyLcEAI__r
   WHERE IsDeleted = false)
FROM Account
WHERE
  (Account.Type IN ('Customer', 'Former Customer') OR
   Account.Account_ID_18__c = '0014M00001sGJ8xQAG') OR
  (Account.Type = 'Partner' AND
   Account.Partners_Partner_Status__c IN ('Authorized', 'Former') AND
   Account.Partners_Partner_Type__c IN ('Alliance', 'Channel') AND
   Account.Partner_Track__c IN ('Open', 'Select', 'Technology')
  )"#;

/// US Federal organizations sync: Salesforce accounts in the `USPUB-FED` territory with their customer and Zuora subscriptions.
pub const US_FEDERAL_ACCOUNTS: &str = r#"SELECT
  Account.Account_ID_18__c,
  Account.Name,
  Account.CARR_This_Account__c,
  Account.Ultimate_Parent_Sales_Segment_Employees__c,
  Account.Account_Owner_Calc__c,
  Account.Number_of_Licenses_This_Account__c,
  Account.Type,
  Account.Technical_Account_Manager_Name__c,
  Account.Support_Level__c,
  Account.Region__c,
  Account.GS_Health_Score_Color__c,
  Account.Next_Renewal_Date__c,
  Solutions_Architect_Lookup__r.Name,
  (SELECT
     Current_Subscription_Status__c,
     Current_Term_End_Date__c,
     Current_Term_Start_Date__c,
     Entitled_Seats__c,
     Product_Tier_Name_Short__c,
     Plan_Name__c
   FROM Customer_Subscriptions__r
   WHERE Current_Subscription_Status__c = 'Active'),
   (SELECT
      Name,
      Zuora__Status__c,
      Zuora__SubscriptionEndDate__c,
      Zuora__SubscriptionStartDate__c,
      Support_Level__c,
      Zuora__OpportunityName__c,
      Zuora__SubscriptionNumber__c
    FROM Zuora__Subscriptions__r
    WHERE Zuora__Status__c = 'Active')
FROM Account
WHERE
Type IN ('Customer', 'Former Customer', 'Prospect') AND
Account_Territory__c LIKE 'USPUB-FED%'"#;

/// US Federal users sync: active contacts of US Federal accounts. `USPUB_FED%` is verbatim: in SOQL `LIKE`, `_` matches any one character.
pub const US_FEDERAL_CONTACTS: &str = r#"SELECT
  Contact.Name,
  Contact.Email,
  Account.Account_ID_18__c,
  Account.Name,
  Contact.Inactive_Contact__c
FROM Contact
WHERE
  Contact.Inactive_Contact__c = false AND
  Account.Type IN ('Customer', 'Former Customer', 'Prospect') AND
  Account.Account_Territory__c LIKE 'USPUB_FED%'"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_accounts_query_is_unchanged() {
        insta::assert_snapshot!("global_accounts", GLOBAL_ACCOUNTS);
    }

    #[test]
    fn us_federal_accounts_query_is_unchanged() {
        insta::assert_snapshot!("us_federal_accounts", US_FEDERAL_ACCOUNTS);
    }

    #[test]
    fn us_federal_contacts_query_is_unchanged() {
        insta::assert_snapshot!("us_federal_contacts", US_FEDERAL_CONTACTS);
    }

    #[test]
    fn queries_select_the_relationships_the_records_read() {
        assert!(GLOBAL_ACCOUNTS.contains("FROM Zuora__R00N40000001kyLcEAI__r"));
        assert!(US_FEDERAL_ACCOUNTS.contains("Solutions_Architect_Lookup__r.Name"));
        assert!(US_FEDERAL_CONTACTS.contains("LIKE 'USPUB_FED%'"));
        assert!(US_FEDERAL_ACCOUNTS.contains("LIKE 'USPUB-FED%'"));
    }
}
