//! The request form's checks (FLOWS.md, common portal flow process 3: "structure and format
//! checked"): every field by its catalogue kind, the item-9 uploads by type and size, and the
//! representative's power of attorney. Each error is keyed by the field it belongs next to
//! and worded in the page's language; nothing is kept until every check passes.

use std::collections::BTreeMap;

use egov_core::Iin;
use egov_core::envelope::{sha256, to_timestamp};
use egov_proto::v1::{
    AttachedDocument, CatalogueService, Channel, FormFieldKind, ServiceApplication,
};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::catalogue::asked_on_portal;
use crate::text::{Lang, t};

/// The item-9 document the signed request itself stands for on the portal (001 (B) item 4).
pub const APPLICATION_DOCUMENT: &str = "application";

/// The file types an item-9 upload may have.
pub const ALLOWED_TYPES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];

/// The longest text field, when the catalogue gives no limit.
const DEFAULT_MAX_TEXT: usize = 200;

/// One uploaded file, as the form's script sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct Upload {
    /// The item-9 document code.
    pub kind: String,
    /// The file's name.
    pub file_name: String,
    /// Its MIME type, as the browser says.
    pub content_type: String,
    /// Its bytes, hex.
    pub content_hex: String,
}

/// The form as submitted.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Submitted {
    /// The fields, by code.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// The uploads.
    #[serde(default)]
    pub documents: Vec<Upload>,
    /// The principal's IIN when a representative files, else empty.
    #[serde(default)]
    pub principal_iin: String,
    /// The notarised power of attorney's number when a representative files.
    #[serde(default)]
    pub power_of_attorney_number: String,
}

/// The checks' errors, by the field they belong next to.
pub type Errors = BTreeMap<String, String>;

/// Checks a submitted form for `service` filed by `filer`, returning the application.
pub fn check(
    service: &CatalogueService,
    submitted: &Submitted,
    filer: &Iin,
    max_upload_bytes: usize,
    now: OffsetDateTime,
    lang: Lang,
) -> Result<ServiceApplication, Errors> {
    let mut errors = Errors::new();
    let mut application = ServiceApplication {
        service_code: service.code.clone(),
        channel: Channel::Portal as i32,
        recipient_iin: filer.to_string(),
        submitted_at: Some(to_timestamp(now)),
        ..ServiceApplication::default()
    };

    for code in submitted.fields.keys() {
        if !service.fields.iter().any(|field| &field.code == code) {
            errors.insert(
                format!("field:{code}"),
                t(lang, "Белгісіз өріс", "Неизвестное поле", "Unknown field").to_owned(),
            );
        }
    }
    for field in &service.fields {
        let key = format!("field:{}", field.code);
        let value = submitted
            .fields
            .get(&field.code)
            .map(|value| value.trim().to_owned())
            .unwrap_or_default();
        let kind = field.kind();
        let empty = value.is_empty() || (kind == FormFieldKind::Boolean && value == "false");
        if empty {
            if field.required {
                errors.insert(
                    key,
                    t(
                        lang,
                        "Міндетті өріс",
                        "Обязательное поле",
                        "This field is required",
                    )
                    .to_owned(),
                );
            }
            continue;
        }
        let checked = match kind {
            FormFieldKind::Iin => Iin::parse(&value).map(|iin| iin.to_string()).map_err(|_| {
                t(
                    lang,
                    "ЖСН 12 цифрдан тұрады және бақылау саны дұрыс болуы керек",
                    "ИИН должен состоять из 12 цифр с верной контрольной цифрой",
                    "An IIN is 12 digits with a valid check digit",
                )
            }),
            FormFieldKind::Boolean => match value.as_str() {
                "true" => Ok(value.clone()),
                _ => Err(t(lang, "Иә немесе жоқ", "Да или нет", "Yes or no")),
            },
            FormFieldKind::Date => time::Date::parse(
                &value,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map(|_| value.clone())
            .map_err(|_| {
                t(
                    lang,
                    "Күні: ЖЖЖЖ-АА-КК",
                    "Дата: ГГГГ-ММ-ДД",
                    "Date: YYYY-MM-DD",
                )
            }),
            _ => {
                let max = match field.max_length {
                    0 => DEFAULT_MAX_TEXT,
                    n => n as usize,
                };
                if value.chars().count() > max {
                    Err(t(
                        lang,
                        "Мәтін тым ұзын",
                        "Слишком длинный текст",
                        "Too long",
                    ))
                } else {
                    Ok(value.clone())
                }
            }
        };
        match checked {
            Ok(value) if field.code == "child_iin" => application.child_iin = value,
            Ok(value) => {
                application.fields.insert(field.code.clone(), value);
            }
            Err(message) => {
                errors.insert(key, message.to_owned());
            }
        }
    }

    // The representative: a notarised power of attorney, the principal's cabinet.
    let principal = submitted.principal_iin.trim();
    if !principal.is_empty() {
        match Iin::parse(principal) {
            Ok(iin) if &iin == filer => {
                errors.insert(
                    "principal_iin".to_owned(),
                    t(
                        lang,
                        "Сенім білдірушінің ЖСН-і сіздікі емес болуы керек",
                        "ИИН доверителя не должен быть вашим",
                        "The principal's IIN cannot be your own",
                    )
                    .to_owned(),
                );
            }
            Ok(iin) => {
                application.recipient_iin = iin.to_string();
                application.representative_iin = filer.to_string();
            }
            Err(_) => {
                errors.insert(
                    "principal_iin".to_owned(),
                    t(
                        lang,
                        "ЖСН 12 цифрдан тұрады және бақылау саны дұрыс болуы керек",
                        "ИИН должен состоять из 12 цифр с верной контрольной цифрой",
                        "An IIN is 12 digits with a valid check digit",
                    )
                    .to_owned(),
                );
            }
        }
        let number = submitted.power_of_attorney_number.trim();
        if number.is_empty() || number.chars().count() > 64 {
            errors.insert(
                "power_of_attorney_number".to_owned(),
                t(
                    lang,
                    "Нотариат куәландырған сенімхаттың нөмірін көрсетіңіз",
                    "Укажите номер нотариальной доверенности",
                    "Give the number of the notarised power of attorney",
                )
                .to_owned(),
            );
        } else {
            application.power_of_attorney_number = number.to_owned();
        }
    }

    // Item-9 documents: the signed request stands for the application; the rest uploaded.
    let mut attached: Vec<AttachedDocument> = Vec::new();
    for upload in &submitted.documents {
        let key = format!("doc:{}", upload.kind);
        let Some(document) = service
            .documents
            .iter()
            .find(|document| document.code == upload.kind && asked_on_portal(document))
        else {
            errors.insert(
                key,
                t(
                    lang,
                    "Бұл құжат бұл қызметке сұралмайды",
                    "Этот документ не запрашивается для услуги",
                    "This document is not asked for this service",
                )
                .to_owned(),
            );
            continue;
        };
        if !ALLOWED_TYPES.contains(&upload.content_type.as_str()) {
            errors.insert(
                key,
                t(
                    lang,
                    "Файл түрі қабылданбайды: PDF, JPEG немесе PNG",
                    "Недопустимый тип файла: нужен PDF, JPEG или PNG",
                    "Wrong file type: PDF, JPEG or PNG only",
                )
                .to_owned(),
            );
            continue;
        }
        let Ok(content) = hex::decode(&upload.content_hex) else {
            errors.insert(key, "hex".to_owned());
            continue;
        };
        if content.is_empty() || content.len() > max_upload_bytes {
            errors.insert(
                key,
                format!(
                    "{} ({} MiB)",
                    t(
                        lang,
                        "Файл бос немесе тым үлкен",
                        "Файл пуст или слишком велик",
                        "The file is empty or too large"
                    ),
                    max_upload_bytes / (1024 * 1024)
                ),
            );
            continue;
        }
        attached.push(AttachedDocument {
            kind: document.code.clone(),
            file_name: upload.file_name.chars().take(200).collect(),
            content_type: upload.content_type.clone(),
            sha256: sha256(&content).to_vec(),
            content,
            valid_until: None,
        });
    }
    for document in service.documents.iter().filter(|d| asked_on_portal(d)) {
        if document.code == APPLICATION_DOCUMENT {
            continue;
        }
        if document.required
            && !attached.iter().any(|a| a.kind == document.code)
            && !errors.contains_key(&format!("doc:{}", document.code))
        {
            errors.insert(
                format!("doc:{}", document.code),
                t(
                    lang,
                    "Құжатты тіркеңіз (Стандарттың 9-тармағы)",
                    "Приложите документ (пункт 9 стандарта)",
                    "Attach this document (Standard item 9)",
                )
                .to_owned(),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if service
        .documents
        .iter()
        .any(|document| document.code == APPLICATION_DOCUMENT)
    {
        let content = serde_json::to_vec(&application.fields).unwrap_or_default();
        attached.insert(
            0,
            AttachedDocument {
                kind: APPLICATION_DOCUMENT.to_owned(),
                file_name: "application.json".to_owned(),
                content_type: "application/json".to_owned(),
                sha256: sha256(&content).to_vec(),
                content,
                valid_until: None,
            },
        );
    }
    application.documents = attached;
    Ok(application)
}

#[cfg(test)]
mod tests {
    use egov_proto::v1::{CatalogueDocument, FormField, LocalizedText};

    use super::*;

    fn text(en: &str) -> Option<LocalizedText> {
        Some(LocalizedText {
            kk: en.to_owned(),
            ru: en.to_owned(),
            en: en.to_owned(),
        })
    }

    /// Service C as the catalogue lists it: the child's IIN, home schooling, two uploads.
    fn service_c() -> CatalogueService {
        CatalogueService {
            code: "C".into(),
            name: text("C"),
            fields: vec![
                FormField {
                    code: "child_iin".into(),
                    name: text("Child's IIN"),
                    kind: FormFieldKind::Iin as i32,
                    required: true,
                    max_length: 0,
                },
                FormField {
                    code: "home_schooling".into(),
                    name: text("Home schooling"),
                    kind: FormFieldKind::Boolean as i32,
                    required: true,
                    max_length: 0,
                },
            ],
            documents: ["application", "pmpc_conclusion"]
                .iter()
                .map(|code| CatalogueDocument {
                    code: (*code).into(),
                    name: text(code),
                    required: true,
                    channels: Vec::new(),
                })
                .collect(),
            ..CatalogueService::default()
        }
    }

    fn filer() -> Iin {
        Iin::parse("841102490063").expect("IIN")
    }

    fn pdf() -> Upload {
        Upload {
            kind: "pmpc_conclusion".into(),
            file_name: "conclusion.pdf".into(),
            content_type: "application/pdf".into(),
            content_hex: hex::encode(b"%PDF-1.4 conclusion"),
        }
    }

    fn submitted(uploads: Vec<Upload>) -> Submitted {
        Submitted {
            fields: BTreeMap::from([
                ("child_iin".to_owned(), "130520590071".to_owned()),
                ("home_schooling".to_owned(), "true".to_owned()),
            ]),
            documents: uploads,
            ..Submitted::default()
        }
    }

    fn checked(form: &Submitted) -> Result<ServiceApplication, Errors> {
        check(
            &service_c(),
            form,
            &filer(),
            1024,
            OffsetDateTime::UNIX_EPOCH,
            Lang::En,
        )
    }

    #[test]
    fn a_complete_form_becomes_an_application_with_the_signed_request_as_its_application_document()
    {
        let application = checked(&submitted(vec![pdf()])).expect("valid");
        assert_eq!(application.child_iin, "130520590071");
        assert_eq!(application.recipient_iin, "841102490063");
        let kinds: Vec<&str> = application
            .documents
            .iter()
            .map(|d| d.kind.as_str())
            .collect();
        assert_eq!(kinds, ["application", "pmpc_conclusion"]);
    }

    #[test]
    fn a_bad_child_iin_is_named_next_to_its_field() {
        let mut form = submitted(vec![pdf()]);
        form.fields
            .insert("child_iin".into(), "130520590072".into());
        let errors = checked(&form).expect_err("bad check digit");
        assert!(
            errors["field:child_iin"].contains("check digit"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_missing_item_9_document_is_refused() {
        let errors = checked(&submitted(Vec::new())).expect_err("no conclusion");
        assert!(errors.contains_key("doc:pmpc_conclusion"), "{errors:?}");
    }

    #[test]
    fn a_file_of_the_wrong_type_is_refused() {
        let mut upload = pdf();
        upload.content_type = "application/x-msdownload".into();
        let errors = checked(&submitted(vec![upload])).expect_err("an executable");
        assert!(
            errors["doc:pmpc_conclusion"].contains("Wrong file type"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_file_over_the_limit_is_refused() {
        let mut upload = pdf();
        upload.content_hex = hex::encode(vec![0u8; 1025]);
        let errors = checked(&submitted(vec![upload])).expect_err("too large");
        assert!(
            errors["doc:pmpc_conclusion"].contains("too large"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_representative_needs_the_power_of_attorney_number() {
        let mut form = submitted(vec![pdf()]);
        form.principal_iin = "950703390123".into();
        let errors = checked(&form).expect_err("no number");
        assert!(
            errors.contains_key("power_of_attorney_number"),
            "{errors:?}"
        );
        form.power_of_attorney_number = "ENIS-000104".into();
        let application = checked(&form).expect("valid");
        assert_eq!(application.recipient_iin, "950703390123");
        assert_eq!(application.representative_iin, "841102490063");
    }
}
