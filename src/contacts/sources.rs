//! The address books Warmline knows by their header row, and what each column of theirs holds.
//!
//! A header is recognised by a few column names only its exporter writes; every column is then
//! mapped through one dictionary of the names exporters use (with the few a source means
//! differently: Outlook's "Title" is "Dr." or "Ms.", not a job title). A header no source claims
//! is mapped through the same dictionary, and the user checks the result.

use serde::{Deserialize, Serialize};

/// An exporter whose header Warmline recognises.
pub struct Source {
    /// How the preview names it.
    pub label: &'static str,
    /// Column keys (see [`key`]) that all appear in its header.
    signature: &'static [&'static str],
    /// Column keys it means differently from the dictionary.
    overrides: &'static [(&'static str, Field)],
}

/// Known exports, most specific first.
const SOURCES: &[Source] = &[
    Source {
        label: "Warmline export",
        signature: &[
            "name",
            "linkedinurl",
            "kind",
            "strength",
            "stayintouchdays",
            "owner",
        ],
        overrides: &[],
    },
    Source {
        label: "LinkedIn connections export",
        signature: &[
            "firstname",
            "lastname",
            "url",
            "emailaddress",
            "position",
            "connectedon",
        ],
        overrides: &[("url", Field::LinkedinUrl)],
    },
    Source {
        label: "Google Contacts CSV",
        signature: &["firstname", "lastname", "fileas", "labels"],
        overrides: &[],
    },
    Source {
        label: "Google Contacts CSV (legacy)",
        signature: &["givenname", "familyname", "groupmembership"],
        overrides: &[],
    },
    Source {
        label: "Outlook.com CSV",
        signature: &[
            "firstname",
            "lastname",
            "title",
            "suffix",
            "givenyomi",
            "jobtitle",
        ],
        overrides: &[("title", Field::NamePrefix), ("account", Field::Ignore)],
    },
    Source {
        label: "Outlook CSV",
        signature: &[
            "firstname",
            "lastname",
            "title",
            "suffix",
            "emailaddress",
            "jobtitle",
        ],
        overrides: &[("title", Field::NamePrefix), ("account", Field::Ignore)],
    },
    Source {
        label: "HubSpot contacts export",
        signature: &["recordid", "firstname", "lastname", "lifecyclestage"],
        overrides: &[],
    },
    Source {
        label: "Zoho CRM contacts export",
        signature: &[
            "recordid",
            "contactowner",
            "firstname",
            "lastname",
            "accountname",
        ],
        overrides: &[],
    },
    Source {
        label: "Salesforce Data Loader export",
        signature: &["id", "accountid", "firstname", "lastname"],
        overrides: &[],
    },
    Source {
        label: "Salesforce report",
        signature: &["firstname", "lastname", "accountname"],
        overrides: &[],
    },
    Source {
        label: "Pipedrive people export",
        signature: &["personname", "personorganization"],
        overrides: &[],
    },
    Source {
        label: "Pipedrive people export",
        signature: &["name", "organization", "emailwork"],
        overrides: &[],
    },
];

/// A column name reduced to what matters: lower-case letters and digits, every run of digits
/// as one `#` ("E-mail 2 - Value" is `email#value`), and a Salesforce relationship's dot gone
/// ("Account.Name" is `accountname`).
pub fn key(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    for c in header.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else if c.is_alphanumeric() {
            out.push(c);
        }
    }
    out
}

/// The source whose export has this header, if any.
pub fn recognise(header: &[String]) -> Option<&'static Source> {
    let keys: Vec<String> = header.iter().map(|h| key(h)).collect();
    SOURCES
        .iter()
        .find(|s| s.signature.iter().all(|k| keys.iter().any(|h| h == k)))
}

/// What each column holds: by the source's own meaning, else by the dictionary. A field that
/// takes one value (a name part, a kind) goes to its first column only; e-mails, phones, web
/// sites and notes may come from several (the first value is kept, the rest go to the notes).
pub fn mapping(header: &[String]) -> Vec<Field> {
    let source = recognise(header);
    let mut used = Vec::new();
    header
        .iter()
        .map(|h| {
            let k = key(h);
            let field = source
                .and_then(|s| s.overrides.iter().find(|(o, _)| *o == k))
                .map_or_else(|| dictionary(&k), |(_, f)| *f);
            if field.takes_many() {
                field
            } else if field == Field::Ignore || used.contains(&field) {
                Field::Ignore
            } else {
                used.push(field);
                field
            }
        })
        .collect()
}

/// The field a column key most likely means, across the exporters Warmline knows.
fn dictionary(key: &str) -> Field {
    match key {
        "name" | "fullname" | "contactname" | "displayname" | "personname" => Field::Name,
        "firstname" | "givenname" | "first" | "vorname" | "prénom" | "prenom"
        | "personfirstname" => Field::FirstName,
        "lastname" | "surname" | "familyname" | "last" | "nachname" | "nom" | "personlastname" => {
            Field::LastName
        }
        "middlename" | "additionalname" => Field::MiddleName,
        "nameprefix" | "prefix" | "salutation" | "anrede" => Field::NamePrefix,
        "namesuffix" | "suffix" => Field::NameSuffix,
        "email" | "emailaddress" | "mail" | "workemail" | "homeemail" | "otheremail"
        | "personalemail" | "primaryemail" | "secondaryemail" | "email#value" | "email#address"
        | "emailwork" | "emailhome" | "emailother" | "personemail" | "personemailwork"
        | "personemailhome" | "personemailother" => Field::Email,
        "phone" | "phonenumber" | "mobile" | "mobilephone" | "mobilephonenumber" | "tel"
        | "telephone" | "telefon" | "téléphone" | "handy" | "phone#value" | "businessphone"
        | "businessphone#" | "homephone" | "homephone#" | "otherphone" | "primaryphone"
        | "companymainphone" | "workphone" | "phonework" | "phonemobile" | "phonehome"
        | "phoneother" | "personphone" | "personphonework" | "personphonemobile"
        | "personphonehome" | "personphoneother" => Field::Phone,
        "company" | "companyname" | "organization" | "organisation" | "organizationname"
        | "organization#name" | "org" | "employer" | "account" | "accountname"
        | "personorganization" | "firma" | "unternehmen" | "entreprise" | "société" | "societe" => {
            Field::Company
        }
        "title" | "jobtitle" | "position" | "role" | "organizationtitle" | "organization#title"
        | "personjobtitle" => Field::Title,
        "linkedin" | "linkedinurl" | "linkedinprofile" | "linkedinprofileurl" | "profileurl" => {
            Field::LinkedinUrl
        }
        "website" | "webpage" | "url" | "website#value" | "websiteurl" | "homepage"
        | "personalwebsite" | "businesswebsite" => Field::Website,
        "kind" | "type" | "category" | "contacttype" => Field::Kind,
        "strength" | "relationshipstrength" => Field::Strength,
        "stayintouchdays" | "stayintouch" | "cadence" | "touchcadencedays" => {
            Field::TouchCadenceDays
        }
        "notes" | "note" | "comments" | "description" | "notizen" | "personnotes" => Field::Notes,
        "connectedon" => Field::ConnectedOn,
        _ => Field::Ignore,
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Ignore,
    Name,
    FirstName,
    MiddleName,
    LastName,
    NamePrefix,
    NameSuffix,
    Email,
    Phone,
    Company,
    Title,
    LinkedinUrl,
    Website,
    Kind,
    Strength,
    TouchCadenceDays,
    Notes,
    ConnectedOn,
}

impl Field {
    /// Every choice, for the mapping form.
    pub const ALL: [Field; 18] = [
        Field::Ignore,
        Field::Name,
        Field::FirstName,
        Field::MiddleName,
        Field::LastName,
        Field::NamePrefix,
        Field::NameSuffix,
        Field::Email,
        Field::Phone,
        Field::Company,
        Field::Title,
        Field::LinkedinUrl,
        Field::Website,
        Field::Kind,
        Field::Strength,
        Field::TouchCadenceDays,
        Field::Notes,
        Field::ConnectedOn,
    ];

    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ignore => "ignore",
            Self::Name => "name",
            Self::FirstName => "first_name",
            Self::MiddleName => "middle_name",
            Self::LastName => "last_name",
            Self::NamePrefix => "name_prefix",
            Self::NameSuffix => "name_suffix",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Company => "company",
            Self::Title => "title",
            Self::LinkedinUrl => "linkedin_url",
            Self::Website => "website",
            Self::Kind => "kind",
            Self::Strength => "strength",
            Self::TouchCadenceDays => "touch_cadence_days",
            Self::Notes => "notes",
            Self::ConnectedOn => "connected_on",
        }
    }

    /// How it is named in the mapping form.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ignore => "(ignore)",
            Self::Name => "Full name",
            Self::FirstName => "First name",
            Self::MiddleName => "Middle name",
            Self::LastName => "Last name",
            Self::NamePrefix => "Name prefix (Dr., Ms.)",
            Self::NameSuffix => "Name suffix (Jr., PhD)",
            Self::Email => "E-mail",
            Self::Phone => "Phone",
            Self::Company => "Company",
            Self::Title => "Title",
            Self::LinkedinUrl => "LinkedIn URL",
            Self::Website => "Web site (LinkedIn, else notes)",
            Self::Kind => "Kind",
            Self::Strength => "Strength (1–5)",
            Self::TouchCadenceDays => "Stay in touch (days)",
            Self::Notes => "Notes",
            Self::ConnectedOn => "Connected on (to notes)",
        }
    }

    /// Whether several columns may hold this field: the first value is kept and the others
    /// go to the notes.
    pub fn takes_many(self) -> bool {
        matches!(
            self,
            Self::Email
                | Self::Phone
                | Self::Company
                | Self::Title
                | Self::LinkedinUrl
                | Self::Website
                | Self::Notes
        )
    }

    /// Parses the form value.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }
}
