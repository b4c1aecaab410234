//! [`ServiceCatalog`] for the crate's service catalog (`crate::catalog`): the validator reads
//! the catalog only through this adapter, and its tests use a small fake instead.

use super::catalog_checks::{ActionInfo, ServiceCatalog, ServiceInfo};
use super::keys::KeyKind;
use crate::catalog::{Catalog, KeyType, Service};

impl ServiceCatalog for Catalog {
    fn service(&self, prefix: &str) -> Option<&dyn ServiceInfo> {
        Catalog::service(self, prefix).map(|s| s as &dyn ServiceInfo)
    }

    fn condition_key(&self, key: &str) -> Option<(KeyKind, bool)> {
        Catalog::condition_key(self, key)
            .or_else(|| {
                // A few services document their tag keys as `.../tag-key` or `.../` rather
                // than as a `${TagKey}` template.
                let (head, _) = key.split_once('/')?;
                ["tag-key", ""]
                    .into_iter()
                    .find_map(|t| Catalog::condition_key(self, &format!("{head}/{t}")))
            })
            .map(|k| (kind(k.kind.base()), k.kind.is_array()))
    }
}

fn kind(t: KeyType) -> KeyKind {
    match t {
        KeyType::String | KeyType::ArrayOfString => KeyKind::String,
        KeyType::Arn | KeyType::ArrayOfArn => KeyKind::Arn,
        KeyType::Numeric | KeyType::ArrayOfNumeric | KeyType::Long => KeyKind::Numeric,
        KeyType::Date => KeyKind::Date,
        KeyType::Bool | KeyType::ArrayOfBool => KeyKind::Bool,
        KeyType::IpAddress => KeyKind::Ip,
        KeyType::Binary => KeyKind::Binary,
        _ => KeyKind::Any,
    }
}

impl ServiceInfo for Service {
    fn action_names(&self) -> Vec<&str> {
        self.actions().map(|a| a.name()).collect()
    }

    fn action(&self, name: &str) -> Option<ActionInfo<'_>> {
        Service::action(self, name).map(|a| ActionInfo {
            resource_types: a.resource_types().iter().map(|r| r.name()).collect(),
            condition_keys: a.condition_keys().to_vec(),
        })
    }

    fn resource_types(&self) -> Vec<(&str, &str)> {
        Service::resource_types(self).map(|r| (r.name(), r.arn_pattern())).collect()
    }

    fn condition_keys(&self) -> Vec<&str> {
        let own = Service::condition_keys(self).map(|k| k.name.as_str());
        let of_types =
            Service::resource_types(self).flat_map(|r| r.condition_keys().iter().copied());
        own.chain(of_types).collect()
    }
}
