//! The simulated org's schema: which sObjects exist, their fields with types, their
//! lookups (child-to-parent relationship names) and child relationships.
//!
//! Names follow the SOQL in `reference/original-design.md`. Where the page does not
//! say (the child objects' API names and their lookup fields), we chose:
//!
//! | child relationship on Account | child sObject | lookup field → Account |
//! |---|---|---|
//! | `Contacts` | `Contact` | `AccountId` (relationship `Account`) |
//! | `Cases` | `Case` | `AccountId` (relationship `Account`) |
//! | `Customer_Subscriptions__r` | `Customer_Subscription__c` (prefix `a0B`) | `Account__c` (`Account__r`) |
//! | `Zuora__Subscriptions__r` | `Zuora__Subscription__c` (prefix `a0C`) | `Zuora__Account__c` (`Zuora__Account__r`) |
//! | `Zuora__R00N40000001kyLcEAI__r` | `Zuora__CustomerAccount__c` (prefix `a0D`) | `Zuora__Account__c` (`Zuora__Account__r`) |
//!
//! `Account.Solutions_Architect_Lookup__c` looks up a `User` (`Solutions_Architect_Lookup__r`).

/// The type of a field, as far as the simulator needs it (encoding and comparisons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// An 18-character record id (`Id`).
    Id,
    /// Text, picklist, email, textarea: compared case-insensitively.
    Text,
    /// `true`/`false`, never null.
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DDTHH:MM:SS.sss+0000`.
    DateTime,
    /// currency / double: JSON floats.
    Number,
    /// A lookup to another sObject: the target and the relationship name.
    Reference(&'static str, &'static str),
}

/// One field of an sObject.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Canonical API name.
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
    /// Whether DML may set it.
    pub writable: bool,
    /// Whether it can key an upsert (`PATCH /sobjects/T/Field/value`).
    pub external_id: bool,
}

/// One sObject type.
#[derive(Debug)]
pub struct SObject {
    /// Canonical API name.
    pub name: &'static str,
    /// The three-character id prefix.
    pub key_prefix: &'static str,
    /// Its fields.
    pub fields: &'static [Field],
}

/// A parent-to-child relationship: `parent.relationship` lists `child` rows whose `field` points at the parent.
#[derive(Debug)]
pub struct ChildRelationship {
    /// The parent sObject.
    pub parent: &'static str,
    /// Canonical relationship name, e.g. `Customer_Subscriptions__r`.
    pub name: &'static str,
    /// The child sObject.
    pub child: &'static str,
    /// The lookup field on the child.
    pub field: &'static str,
}

const fn f(name: &'static str, ty: FieldType) -> Field {
    Field {
        name,
        ty,
        writable: true,
        external_id: false,
    }
}
const fn ro(name: &'static str, ty: FieldType) -> Field {
    Field {
        name,
        ty,
        writable: false,
        external_id: false,
    }
}
const fn ext(name: &'static str) -> Field {
    Field {
        name,
        ty: FieldType::Text,
        writable: true,
        external_id: true,
    }
}

use FieldType::{Boolean, Date, DateTime, Id, Number, Text};

const ACCOUNT_REF: FieldType = FieldType::Reference("Account", "Account");

/// Every sObject the simulator knows.
pub static SOBJECTS: &[SObject] = &[
    SObject {
        name: "Account",
        key_prefix: "001",
        fields: &[
            ro("Id", Id),
            f("Name", Text),
            ro("Account_ID_18__c", Text),
            f("Type", Text),
            f("CARR_This_Account__c", Number),
            f("Ultimate_Parent_Sales_Segment_Employees__c", Text),
            f("Account_Owner_Calc__c", Text),
            f("Number_of_Licenses_This_Account__c", Number),
            f("Technical_Account_Manager_Name__c", Text),
            f("Account_Demographics_Geo__c", Text),
            f("GS_Health_Score_Color__c", Text),
            f("Next_Renewal_Date__c", Date),
            f("Restricted_Account__c", Text),
            f("Partners_Partner_Status__c", Text),
            f("Partners_Partner_Type__c", Text),
            f("Partner_Track__c", Text),
            f("Support_Level__c", Text),
            f("Region__c", Text),
            f("Account_Territory__c", Text),
            f(
                "Solutions_Architect_Lookup__c",
                FieldType::Reference("User", "Solutions_Architect_Lookup__r"),
            ),
            ro("IsDeleted", Boolean),
        ],
    },
    SObject {
        name: "Contact",
        key_prefix: "003",
        fields: &[
            ro("Id", Id),
            ro("Name", Text),
            f("FirstName", Text),
            f("LastName", Text),
            f("Email", Text),
            f("AccountId", ACCOUNT_REF),
            f("Inactive_Contact__c", Boolean),
            ro("IsDeleted", Boolean),
        ],
    },
    SObject {
        name: "User",
        key_prefix: "005",
        fields: &[
            ro("Id", Id),
            f("Name", Text),
            f("Email", Text),
            f("IsActive", Boolean),
        ],
    },
    SObject {
        name: "Case",
        key_prefix: "500",
        fields: &[
            ro("Id", Id),
            ro("CaseNumber", Text),
            f("Subject", Text),
            f("Description", Text),
            f("Status", Text),
            f("Origin", Text),
            f("Priority", Text),
            f("AccountId", ACCOUNT_REF),
            f("ContactId", FieldType::Reference("Contact", "Contact")),
            f("OwnerId", FieldType::Reference("User", "Owner")),
            f("SuppliedEmail", Text),
            f("SuppliedName", Text),
            ext("Zendesk_Support_Ticket_ID__c"),
            f("Zendesk_Support_Ticket_URL__c", Text),
            ro("IsClosed", Boolean),
            ro("ClosedDate", DateTime),
            ro("CreatedDate", DateTime),
            ro("LastModifiedDate", DateTime),
            ro("IsDeleted", Boolean),
        ],
    },
    SObject {
        name: "Customer_Subscription__c",
        key_prefix: "a0B",
        fields: &[
            ro("Id", Id),
            f("Name", Text),
            f("Account__c", FieldType::Reference("Account", "Account__r")),
            f("Current_Subscription_Status__c", Text),
            f("Current_Term_Start_Date__c", Date),
            f("Current_Term_End_Date__c", Date),
            f("Entitled_Seats__c", Number),
            f("Product_Tier_Name_Short__c", Text),
            f("Plan_Name__c", Text),
            ro("IsDeleted", Boolean),
        ],
    },
    SObject {
        name: "Zuora__Subscription__c",
        key_prefix: "a0C",
        fields: &[
            ro("Id", Id),
            f("Name", Text),
            f(
                "Zuora__Account__c",
                FieldType::Reference("Account", "Zuora__Account__r"),
            ),
            f("Zuora__Status__c", Text),
            f("Zuora__SubscriptionStartDate__c", Date),
            f("Zuora__SubscriptionEndDate__c", Date),
            f("Support_Level__c", Text),
            f("Zuora__OpportunityName__c", Text),
            f("Zuora__SubscriptionNumber__c", Text),
            ro("IsDeleted", Boolean),
        ],
    },
    SObject {
        name: "Zuora__CustomerAccount__c",
        key_prefix: "a0D",
        fields: &[
            ro("Id", Id),
            f("Name", Text),
            f(
                "Zuora__Account__c",
                FieldType::Reference("Account", "Zuora__Account__r"),
            ),
            f("Zuora__SoldToWorkEmail__c", Text),
            ro("IsDeleted", Boolean),
        ],
    },
];

/// Every parent-to-child relationship.
pub static CHILD_RELATIONSHIPS: &[ChildRelationship] = &[
    ChildRelationship {
        parent: "Account",
        name: "Contacts",
        child: "Contact",
        field: "AccountId",
    },
    ChildRelationship {
        parent: "Account",
        name: "Cases",
        child: "Case",
        field: "AccountId",
    },
    ChildRelationship {
        parent: "Account",
        name: "Customer_Subscriptions__r",
        child: "Customer_Subscription__c",
        field: "Account__c",
    },
    ChildRelationship {
        parent: "Account",
        name: "Zuora__Subscriptions__r",
        child: "Zuora__Subscription__c",
        field: "Zuora__Account__c",
    },
    ChildRelationship {
        parent: "Account",
        name: "Zuora__R00N40000001kyLcEAI__r",
        child: "Zuora__CustomerAccount__c",
        field: "Zuora__Account__c",
    },
];

/// The sObject named `name` (case-insensitive).
pub fn sobject(name: &str) -> Option<&'static SObject> {
    SOBJECTS.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// The sObject whose ids start with `prefix`.
pub fn sobject_by_prefix(id: &str) -> Option<&'static SObject> {
    SOBJECTS.iter().find(|s| id.get(..3) == Some(s.key_prefix))
}

impl SObject {
    /// The field named `name` (case-insensitive).
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The lookup field whose relationship name is `rel` (case-insensitive).
    pub fn lookup(&self, rel: &str) -> Option<(&'static Field, &'static str)> {
        self.fields.iter().find_map(|f| match f.ty {
            FieldType::Reference(target, name) if name.eq_ignore_ascii_case(rel) => {
                Some((f, target))
            }
            _ => None,
        })
    }

    /// The child relationship named `rel` on this sObject (case-insensitive).
    pub fn child(&self, rel: &str) -> Option<&'static ChildRelationship> {
        CHILD_RELATIONSHIPS
            .iter()
            .find(|c| c.parent == self.name && c.name.eq_ignore_ascii_case(rel))
    }
}
