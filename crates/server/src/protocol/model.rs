//! AWS's service models, reduced to what parsing requests needs (`crates/server/models/`, made
//! by `scripts/reduce-models.py` from botocore): each served operation's input shape, and each
//! shape's type, members, required members, bounds and enum values.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// One service's model.
#[derive(Debug, Deserialize)]
pub(crate) struct Model {
    /// The served operations.
    pub operations: BTreeMap<String, ModelOperation>,
    /// Every shape their inputs reach.
    pub shapes: BTreeMap<String, Shape>,
}

/// An operation of the model.
#[derive(Debug, Deserialize)]
pub(crate) struct ModelOperation {
    /// Its input shape, if it takes input.
    pub input: Option<String>,
}

/// What a shape is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Structure,
    List,
    Map,
    String,
    Integer,
    Long,
    Boolean,
    Timestamp,
    Blob,
    Double,
    Float,
}

/// A shape of the model.
#[derive(Debug, Deserialize)]
pub(crate) struct Shape {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Members a structure must have.
    #[serde(default)]
    pub required: Vec<String>,
    /// The least length (strings, blobs, lists, maps) or value (numbers).
    pub min: Option<f64>,
    /// The greatest length or value.
    pub max: Option<f64>,
    /// The values a string may have.
    #[serde(rename = "enum", default)]
    pub values: Vec<String>,
    /// A structure's members, by name.
    #[serde(default)]
    pub members: BTreeMap<String, Member>,
    /// A list's member.
    pub member: Option<Member>,
    /// A map's key.
    pub key: Option<Member>,
    /// A map's value.
    pub value: Option<Member>,
    /// A list or map serialized without its wrapper (query: `Name.N` instead of
    /// `Name.member.N`).
    #[serde(default)]
    pub flattened: bool,
}

/// A reference to a shape, with where it is on the wire.
#[derive(Debug, Deserialize)]
pub(crate) struct Member {
    /// The shape.
    pub shape: String,
    /// Where a REST protocol carries it: `uri`, `querystring`, `header`; the body when `None`.
    pub location: Option<String>,
    /// Its name on the wire, when not the member's.
    #[serde(rename = "locationName")]
    pub location_name: Option<String>,
    /// A list member serialized without its wrapper.
    #[serde(default)]
    pub flattened: bool,
}

/// The services with a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    Iam,
    Sts,
    Kms,
    CloudTrail,
    AccessAnalyzer,
    Mpa,
}

impl Api {
    fn text(self) -> &'static str {
        match self {
            Api::Iam => include_str!("../../models/iam.json"),
            Api::Sts => include_str!("../../models/sts.json"),
            Api::Kms => include_str!("../../models/kms.json"),
            Api::CloudTrail => include_str!("../../models/cloudtrail.json"),
            Api::AccessAnalyzer => include_str!("../../models/accessanalyzer.json"),
            Api::Mpa => include_str!("../../models/mpa.json"),
        }
    }

    fn slot(self) -> &'static OnceLock<Option<Model>> {
        static IAM: OnceLock<Option<Model>> = OnceLock::new();
        static STS: OnceLock<Option<Model>> = OnceLock::new();
        static KMS: OnceLock<Option<Model>> = OnceLock::new();
        static CLOUDTRAIL: OnceLock<Option<Model>> = OnceLock::new();
        static ANALYZER: OnceLock<Option<Model>> = OnceLock::new();
        static MPA: OnceLock<Option<Model>> = OnceLock::new();
        match self {
            Api::Iam => &IAM,
            Api::Sts => &STS,
            Api::Kms => &KMS,
            Api::CloudTrail => &CLOUDTRAIL,
            Api::AccessAnalyzer => &ANALYZER,
            Api::Mpa => &MPA,
        }
    }

    /// The service's model, read once; `None` if the embedded file does not parse (a build
    /// defect a unit test catches; requests are then refused, fail closed).
    pub fn model(self) -> Option<&'static Model> {
        self.slot().get_or_init(|| serde_json::from_str(self.text()).ok()).as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_parses_and_is_closed() {
        for service in
            [Api::Iam, Api::Sts, Api::Kms, Api::CloudTrail, Api::AccessAnalyzer, Api::Mpa]
        {
            let model = service.model().expect("the model parses");
            for (name, op) in &model.operations {
                if let Some(input) = &op.input {
                    assert!(model.shapes.contains_key(input), "{service:?} {name}");
                }
            }
            for (name, shape) in &model.shapes {
                let refs = shape
                    .members
                    .values()
                    .chain(shape.member.iter())
                    .chain(shape.key.iter())
                    .chain(shape.value.iter());
                for r in refs {
                    assert!(
                        model.shapes.contains_key(&r.shape),
                        "{service:?} {name} -> {}",
                        r.shape
                    );
                }
            }
        }
    }
}
