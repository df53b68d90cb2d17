//! Conditions and updates as DynamoDB expressions: placeholder names (`#n0`) and
//! values (`:v0`) for everything, so no stored or user text is ever spliced into
//! an expression.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::{AttributeMap, to_attribute};
use crate::keys::attr;
use crate::table::{Condition, StoreError, StoreResult, Update};

/// Expression text plus the placeholders it uses.
#[derive(Default)]
pub(super) struct Expr {
    names: HashMap<String, String>,
    values: AttributeMap,
}

impl Expr {
    pub(super) fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    pub(super) fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    pub(super) fn condition(&mut self, condition: &Condition) -> StoreResult<String> {
        Ok(match condition {
            Condition::NotExists => format!("attribute_not_exists({})", self.name(attr::PK)),
            Condition::Exists => format!("attribute_exists({})", self.name(attr::PK)),
            Condition::Equals(attribute, value) => {
                let n = self.name(attribute);
                let v = self.value(to_attribute(value)?);
                format!("{n} = {v}")
            }
            Condition::Below(attribute, limit) => {
                let n = self.name(attribute);
                let v = self.value(AttributeValue::N(limit.to_string()));
                // A missing attribute counts as 0: below the limit when it is positive.
                if *limit > 0 {
                    format!("(attribute_not_exists({n}) OR {n} < {v})")
                } else {
                    format!("{n} < {v}")
                }
            }
        })
    }

    pub(super) fn update(&mut self, update: &Update) -> StoreResult<String> {
        let mut clauses = Vec::new();
        if !update.set.is_empty() {
            let mut sets = Vec::new();
            for (attribute, value) in &update.set {
                if attribute == attr::PK || attribute == attr::SK {
                    return Err(StoreError::Invalid(
                        "an update cannot change the primary key".into(),
                    ));
                }
                let n = self.name(attribute);
                let v = self.value(to_attribute(value)?);
                sets.push(format!("{n} = {v}"));
            }
            clauses.push(format!("SET {}", sets.join(", ")));
        }
        if !update.remove.is_empty() {
            let removes: Vec<String> = update.remove.iter().map(|a| self.name(a)).collect();
            clauses.push(format!("REMOVE {}", removes.join(", ")));
        }
        if !update.add.is_empty() {
            let mut adds = Vec::new();
            for (attribute, delta) in &update.add {
                let n = self.name(attribute);
                let v = self.value(AttributeValue::N(delta.to_string()));
                adds.push(format!("{n} {v}"));
            }
            clauses.push(format!("ADD {}", adds.join(", ")));
        }
        if clauses.is_empty() {
            return Err(StoreError::Invalid(
                "an update must change something".into(),
            ));
        }
        Ok(clauses.join(" "))
    }

    pub(super) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    pub(super) fn values(&self) -> Option<AttributeMap> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}
