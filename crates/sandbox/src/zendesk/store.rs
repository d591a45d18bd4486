//! The simulated Zendesk account's data and the rules that change it: unique org names
//! and user emails, tag writes that replace the list, organization_fields that merge, and
//! drop-down/checkbox fields kept in step with their tags as Zendesk does.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::http::now_iso;
use super::model::{Organization, OrganizationField, OrganizationInput, Ticket, User, UserInput};
use crate::Error;

/// Everything one Zendesk account holds.
#[derive(Debug, Clone, Default)]
pub struct Data {
    /// Organizations by id.
    pub orgs: BTreeMap<u64, Organization>,
    /// Users by id.
    pub users: BTreeMap<u64, User>,
    /// Deleted users by id (`active: false`): soft-deleted ones keep their email,
    /// permanently deleted ones have none (§5.12).
    pub deleted_users: BTreeMap<u64, User>,
    /// Tickets by id.
    pub tickets: BTreeMap<u64, Ticket>,
    /// Organization field definitions.
    pub fields: Vec<OrganizationField>,
    /// Next id to hand out.
    pub next_id: u64,
    /// Org id by name key (trimmed, lowercased): uniqueness checks stay cheap at 100k orgs.
    names: HashMap<String, u64>,
    /// User id by lowercased email.
    emails: HashMap<String, u64>,
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A rule broken by a write: answered as a 422 or a failed job row.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// Attribute the error is about (`name`, `email`, `organization_fields`).
    pub attr: &'static str,
    /// Zendesk's message.
    pub description: String,
    /// Inner error code, e.g. `DuplicateValue`.
    pub code: Option<&'static str>,
}

#[derive(serde::Deserialize)]
struct FieldsFile {
    organization_fields: Vec<OrganizationField>,
}
#[derive(serde::Deserialize)]
struct OrgsFile {
    organizations: Vec<Organization>,
}
#[derive(serde::Deserialize)]
struct UsersFile {
    users: Vec<User>,
}
#[derive(serde::Deserialize)]
struct DeletedUsersFile {
    deleted_users: Vec<User>,
}
#[derive(serde::Deserialize)]
struct TicketsFile {
    tickets: Vec<Ticket>,
}

fn read<T: DeserializeOwned>(path: &Path) -> Result<T, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Seed {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(de).map_err(|e| Error::Seed {
        path: path.to_path_buf(),
        message: format!("at `{}`: {}", e.path(), e.inner()),
    })
}

impl Data {
    /// Loads `organization_fields.json`, `organizations.json`, `users.json` and
    /// `tickets.json` (each in the API's list shape) from `dir`, and
    /// `deleted_users.json` when there is one.
    pub fn load_dir(dir: &Path) -> Result<Data, Error> {
        let fields: FieldsFile = read(&dir.join("organization_fields.json"))?;
        let orgs: OrgsFile = read(&dir.join("organizations.json"))?;
        let users: UsersFile = read(&dir.join("users.json"))?;
        let tickets: TicketsFile = read(&dir.join("tickets.json"))?;
        let mut data = Data {
            fields: fields.organization_fields,
            ..Data::default()
        };
        for org in orgs.organizations {
            data.insert_org(org);
        }
        for user in users.users {
            data.insert_user(user);
        }
        for t in tickets.tickets {
            data.tickets.insert(t.id, t);
        }
        let deleted = dir.join("deleted_users.json");
        if deleted.exists() {
            let file: DeletedUsersFile = read(&deleted)?;
            for mut u in file.deleted_users {
                u.active = false;
                u.email = u.email.map(|e| e.trim().to_lowercase());
                data.deleted_users.insert(u.id, u);
            }
        }
        data.next_id = data
            .orgs
            .keys()
            .chain(data.users.keys())
            .chain(data.tickets.keys())
            .chain(data.deleted_users.keys())
            .chain(data.fields.iter().map(|f| &f.id))
            .max()
            .copied()
            .unwrap_or(360_000_000_000)
            + 1;
        data.finish();
        Ok(data)
    }

    /// Puts every org in its canonical form (all defined fields shown, tags normalised)
    /// and rebuilds the name and email indexes.
    pub fn finish(&mut self) {
        self.names = self
            .orgs
            .values()
            .map(|o| (name_key(&o.name), o.id))
            .collect();
        self.emails = self
            .users
            .values()
            .filter_map(|u| Some((u.email.clone()?, u.id)))
            .collect();
        let ids: Vec<u64> = self.orgs.keys().copied().collect();
        for id in ids {
            self.normalise_org(id);
        }
    }

    /// Adds a seed organization as it is.
    pub fn insert_org(&mut self, org: Organization) {
        self.names.insert(name_key(&org.name), org.id);
        self.orgs.insert(org.id, org);
    }

    /// Adds a seed user as it is (email lowercased).
    pub fn insert_user(&mut self, mut user: User) {
        user.email = user.email.map(|e| e.trim().to_lowercase());
        if let Some(email) = &user.email {
            self.emails.insert(email.clone(), user.id);
        }
        self.users.insert(user.id, user);
    }

    /// Deletes an organization; its users lose their default org.
    pub fn remove_org(&mut self, id: u64) -> Option<Organization> {
        let org = self.orgs.remove(&id)?;
        let key = name_key(&org.name);
        if self.names.get(&key) == Some(&id) {
            self.names.remove(&key);
        }
        for u in self.users.values_mut() {
            if u.organization_id == Some(id) {
                u.organization_id = None;
            }
        }
        Some(org)
    }

    /// Deletes a user (a soft deletion, as `DELETE /users/{id}` does): it leaves the
    /// users, keeps its email in `deleted_users` with `active: false`, and its email is
    /// free for a new user.
    pub fn delete_user(&mut self, id: u64) -> Option<&User> {
        let mut user = self.users.remove(&id)?;
        if let Some(email) = &user.email {
            if self.emails.get(email) == Some(&id) {
                self.emails.remove(email);
            }
        }
        user.active = false;
        user.updated_at = now_iso();
        self.deleted_users.insert(id, user);
        self.deleted_users.get(&id)
    }

    /// Adds a seed user as deleted (soft: it keeps its email).
    pub fn insert_deleted_user(&mut self, mut user: User) {
        user.active = false;
        user.email = user.email.map(|e| e.trim().to_lowercase());
        self.deleted_users.insert(user.id, user);
    }

    /// Deletes a deleted user permanently: no email, no phone, a fixed name (§5.12).
    pub fn purge_deleted_user(&mut self, id: u64) -> Option<&User> {
        let user = self.deleted_users.get_mut(&id)?;
        user.email = None;
        user.phone = None;
        user.name = "Permanently Deleted User".to_owned();
        user.updated_at = now_iso();
        Some(user)
    }

    /// A fresh 64-bit id.
    pub fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn field(&self, key: &str) -> Option<&OrganizationField> {
        self.fields.iter().find(|f| f.key == key && f.active)
    }

    /// Shows every defined field (unset as null) and the canonical tag list.
    fn normalise_org(&mut self, id: u64) {
        let keys: Vec<String> = self.fields.iter().map(|f| f.key.clone()).collect();
        if let Some(org) = self.orgs.get_mut(&id) {
            for key in keys {
                org.organization_fields.entry(key).or_insert(Value::Null);
            }
            org.tags = normalise_tags(&org.tags);
        }
    }

    /// The id of another org holding `name` (trimmed, case-insensitive).
    pub fn org_name_taken(&self, name: &str, except: Option<u64>) -> Option<u64> {
        self.names
            .get(&name_key(name))
            .copied()
            .filter(|id| Some(*id) != except)
    }

    /// The user holding `email` (case-insensitive).
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        let id = self.emails.get(&email.trim().to_lowercase())?;
        self.users.get(id)
    }

    /// Creates an organization, enforcing the unique name.
    pub fn create_org(&mut self, input: &OrganizationInput) -> Result<u64, Invalid> {
        let name = input.name.as_deref().map(str::trim).unwrap_or("");
        if name.is_empty() {
            return Err(Invalid {
                attr: "name",
                description: "Name: cannot be blank".to_owned(),
                code: Some("BlankValue"),
            });
        }
        if self.org_name_taken(name, None).is_some() {
            return Err(Invalid {
                attr: "name",
                description: "Name: has already been taken".to_owned(),
                code: Some("DuplicateValue"),
            });
        }
        self.check_org_fields(input)?;
        let id = self.new_id();
        let now = now_iso();
        let org = Organization {
            url: String::new(),
            id,
            name: name.to_owned(),
            shared_tickets: false,
            shared_comments: false,
            external_id: None,
            created_at: now.clone(),
            updated_at: now,
            domain_names: Vec::new(),
            details: None,
            notes: None,
            group_id: None,
            tags: Vec::new(),
            organization_fields: Map::new(),
        };
        self.insert_org(org);
        self.apply_org(id, input);
        self.normalise_org(id);
        Ok(id)
    }

    /// Updates an organization: only the attributes sent change. `None` if unknown.
    pub fn update_org(
        &mut self,
        id: u64,
        input: &OrganizationInput,
    ) -> Option<Result<(), Invalid>> {
        self.orgs.get(&id)?;
        if let Some(name) = &input.name {
            let name = name.trim();
            if name.is_empty() {
                return Some(Err(Invalid {
                    attr: "name",
                    description: "Name: cannot be blank".to_owned(),
                    code: Some("BlankValue"),
                }));
            }
            if self.org_name_taken(name, Some(id)).is_some() {
                // The real update_many row text has a double space and the name (§4.9).
                return Some(Err(Invalid {
                    attr: "name",
                    description: format!("Name:  {name} has already been taken"),
                    code: Some("DuplicateValue"),
                }));
            }
        }
        if let Err(e) = self.check_org_fields(input) {
            return Some(Err(e));
        }
        self.apply_org(id, input);
        if let Some(org) = self.orgs.get_mut(&id) {
            org.updated_at = now_iso();
        }
        self.normalise_org(id);
        Some(Ok(()))
    }

    /// Drop-down values must be one of the field's option values; an `integer` field
    /// takes whole numbers only (a decimal with a fraction is refused: how the real API
    /// answers that is [UNCONFIRMED], the refusal is there so a test can fail).
    fn check_org_fields(&self, input: &OrganizationInput) -> Result<(), Invalid> {
        let Some(values) = &input.organization_fields else {
            return Ok(());
        };
        for (key, value) in values {
            let Some(field) = self.field(key) else {
                continue;
            };
            if field.field_type == "integer" && whole_number(value).is_none() {
                return Err(Invalid {
                    attr: "organization_fields",
                    description: format!("{}: {value} is not a whole number", field.title),
                    code: Some("InvalidValue"),
                });
            }
            if let (Some(options), Value::String(v)) = (&field.custom_field_options, value) {
                if !v.is_empty() && !options.iter().any(|o| &o.value == v) {
                    return Err(Invalid {
                        attr: "organization_fields",
                        description: format!("{}: {v} is not a valid option", field.title),
                        code: Some("InvalidValue"),
                    });
                }
            }
        }
        Ok(())
    }

    /// Applies an update. Tags first (a tag write replaces the list, and the option and
    /// checkbox tags in it set their fields), then field values (which merge, and swap
    /// their option tags / checkbox tag).
    fn apply_org(&mut self, id: u64, input: &OrganizationInput) {
        let fields = self.fields.clone();
        let Some(org) = self.orgs.get_mut(&id) else {
            return;
        };
        if let Some(name) = &input.name {
            let old = name_key(&org.name);
            if self.names.get(&old) == Some(&id) {
                self.names.remove(&old);
            }
            org.name = name.trim().to_owned();
            self.names.insert(name_key(name), id);
        }
        if let Some(v) = &input.external_id {
            org.external_id = Some(v.clone());
        }
        if let Some(v) = &input.details {
            org.details = Some(v.clone());
        }
        if let Some(v) = &input.notes {
            org.notes = Some(v.clone());
        }
        if let Some(v) = &input.domain_names {
            org.domain_names = v.clone();
        }
        if let Some(v) = input.group_id {
            org.group_id = Some(v);
        }
        if let Some(tags) = &input.tags {
            org.tags = normalise_tags(tags);
            for field in fields.iter().filter(|f| f.active) {
                if let Some(options) = &field.custom_field_options {
                    let chosen = org
                        .tags
                        .iter()
                        .find(|t| options.iter().any(|o| &o.value == *t))
                        .cloned();
                    org.organization_fields
                        .insert(field.key.clone(), chosen.map_or(Value::Null, Value::String));
                } else if let Some(tag) = &field.tag {
                    let on = org.tags.contains(tag);
                    org.organization_fields
                        .insert(field.key.clone(), Value::Bool(on));
                }
            }
        }
        if let Some(values) = &input.organization_fields {
            for (key, value) in values {
                let Some(field) = fields.iter().find(|f| &f.key == key && f.active) else {
                    continue; // unknown keys are not stored
                };
                if let Some(options) = &field.custom_field_options {
                    org.tags.retain(|t| !options.iter().any(|o| &o.value == t));
                    if let Value::String(v) = value {
                        if !v.is_empty() {
                            org.tags.push(v.clone());
                        }
                    }
                } else if let Some(tag) = &field.tag {
                    org.tags.retain(|t| t != tag);
                    if truthy(value) {
                        org.tags.push(tag.clone());
                    }
                }
                let stored = if field.tag.is_some() {
                    Value::Bool(truthy(value))
                } else if field.field_type == "integer" {
                    whole_number(value).unwrap_or(Value::Null)
                } else {
                    value.clone()
                };
                org.organization_fields.insert(key.clone(), stored);
            }
        }
    }

    /// Creates a user, enforcing the unique email.
    pub fn create_user(&mut self, input: &UserInput) -> Result<u64, Invalid> {
        let name = input.name.as_deref().map(str::trim).unwrap_or("");
        if name.is_empty() {
            return Err(Invalid {
                attr: "name",
                description: "Name: is too short (minimum is 1 characters)".to_owned(),
                code: None,
            });
        }
        let email = input.email.as_deref().map(|e| e.trim().to_lowercase());
        if let Some(email) = &email {
            check_email(email)?;
            if self.user_by_email(email).is_some() {
                return Err(duplicate_email(email));
            }
        }
        self.check_user_org(input)?;
        let id = self.new_id();
        let now = now_iso();
        let user = User {
            id,
            url: String::new(),
            name: name.to_owned(),
            email,
            created_at: now.clone(),
            updated_at: now,
            time_zone: "America/New_York".to_owned(),
            iana_time_zone: "America/New_York".to_owned(),
            phone: None,
            locale_id: 1,
            locale: "en-US".to_owned(),
            organization_id: None,
            role: "end-user".to_owned(),
            verified: false,
            external_id: None,
            tags: Vec::new(),
            active: true,
            suspended: false,
            ticket_restriction: Some("requested".to_owned()),
            restricted_agent: true,
            role_type: None,
            custom_role_id: None,
            default_group_id: None,
            user_fields: Map::new(),
        };
        self.insert_user(user);
        self.apply_user(id, input);
        Ok(id)
    }

    /// Updates a user; `None` if unknown.
    pub fn update_user(&mut self, id: u64, input: &UserInput) -> Option<Result<(), Invalid>> {
        self.users.get(&id)?;
        if let Some(email) = &input.email {
            let email = email.trim().to_lowercase();
            if let Err(e) = check_email(&email) {
                return Some(Err(e));
            }
            if self.user_by_email(&email).is_some_and(|u| u.id != id) {
                return Some(Err(duplicate_email(&email)));
            }
        }
        if let Err(e) = self.check_user_org(input) {
            return Some(Err(e));
        }
        self.apply_user(id, input);
        if let Some(u) = self.users.get_mut(&id) {
            u.updated_at = now_iso();
        }
        Some(Ok(()))
    }

    fn check_user_org(&self, input: &UserInput) -> Result<(), Invalid> {
        match input.organization_id {
            Some(org) if !self.orgs.contains_key(&org) => Err(Invalid {
                attr: "organization_id",
                description: format!("Organization: {org} does not exist"),
                code: Some("InvalidValue"),
            }),
            _ => Ok(()),
        }
    }

    fn apply_user(&mut self, id: u64, input: &UserInput) {
        let Some(u) = self.users.get_mut(&id) else {
            return;
        };
        if let Some(v) = &input.name {
            u.name = v.trim().to_owned();
        }
        if let Some(v) = &input.email {
            let email = v.trim().to_lowercase();
            if let Some(old) = u.email.replace(email.clone()) {
                if self.emails.get(&old) == Some(&id) {
                    self.emails.remove(&old);
                }
            }
            self.emails.insert(email, id);
        }
        if let Some(v) = &input.role {
            u.role = v.clone();
        }
        if let Some(v) = input.organization_id {
            u.organization_id = Some(v);
        }
        if let Some(v) = &input.external_id {
            u.external_id = Some(v.clone());
        }
        if let Some(v) = &input.tags {
            u.tags = normalise_tags(v);
        }
        if let Some(v) = &input.phone {
            u.phone = Some(v.clone());
        }
        if let Some(v) = input.verified {
            u.verified = v;
        }
        if let Some(values) = &input.user_fields {
            for (k, v) in values {
                u.user_fields.insert(k.clone(), v.clone());
            }
        }
    }
}

fn duplicate_email(email: &str) -> Invalid {
    Invalid {
        attr: "email",
        description: format!("Email: {email} is already being used by another user"),
        code: Some("DuplicateValue"),
    }
}

fn check_email(email: &str) -> Result<(), Invalid> {
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if valid {
        Ok(())
    } else {
        Err(Invalid {
            attr: "email",
            description: format!("Email: {email} is not properly formatted"),
            code: Some("InvalidFormat"),
        })
    }
}

/// The stored form of a value written to an `integer` field: null, or a whole number
/// (`12`, `12.0` and `"12"` give `12`); `None` when it is not one (`12.5`, `"twelve"`).
fn whole_number(v: &Value) -> Option<Value> {
    let from_f64 = |f: f64| -> Option<Value> {
        (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15).then(|| Value::from(f as i64))
    };
    match v {
        Value::Null => Some(Value::Null),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(v.clone()),
        Value::Number(n) => n.as_f64().and_then(from_f64),
        Value::String(s) if s.trim().is_empty() => Some(Value::Null),
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(i) => Some(Value::from(i)),
            Err(_) => s.trim().parse::<f64>().ok().and_then(from_f64),
        },
        _ => None,
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s == "true" || s == "1",
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

/// Lowercased, trimmed, de-duplicated tags in their first order.
pub fn normalise_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let t = t.trim().to_lowercase();
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}
