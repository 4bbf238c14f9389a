//! The personal cabinet's inbox (`portal.cabinet.notify`): the back office's statuses
//! (registered with its term, in progress, issued) and its results, signed by the provider's
//! head and countersigned by its seal; a result signed by the head of an organisation that
//! does not decide its service is refused (`ESIG009`). The receiver verified every signature (chain,
//! validity, revocation) before this handler runs; the check is kept beside the message, so
//! the cabinet shows the citizen who signed the result and that the signature holds.

use std::sync::Arc;

use egov_core::StatusCode;
use egov_core::clock::Clock;
use egov_core::pki::Role;
use egov_proto::v1::{ServiceResult, party};
use egov_system::cabinet::{
    CABINET_NOTIFY_SERVICE_ID, FIELD_RECIPIENT_IIN, FIELD_SERVICE_CODE, FIELD_STATUS,
};
use egov_system::provider::check_result_signer;
use egov_system::{Fault, Handler, Reply, Request};
use time::format_description::well_known::Rfc3339;

use crate::store::{NotificationRow, Store};

/// Keeps what arrives at `portal.cabinet.notify`.
#[derive(Clone)]
pub struct CabinetHandler {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for CabinetHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CabinetHandler").finish_non_exhaustive()
    }
}

impl CabinetHandler {
    /// Keeps notifications in `store`, stamped by `clock`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> CabinetHandler {
        CabinetHandler { store, clock }
    }
}

impl Handler for CabinetHandler {
    async fn handle(&self, request: Request) -> Result<Reply, Fault> {
        let service = request.header().service_id.clone();
        if service != CABINET_NOTIFY_SERVICE_ID {
            return Err(Fault::new(
                StatusCode::UnknownService,
                format!("service {service:?} is not the portal's {CABINET_NOTIFY_SERVICE_ID:?}"),
            ));
        }
        let result: ServiceResult = request.decode()?;
        let recipient = result
            .fields
            .get(FIELD_RECIPIENT_IIN)
            .cloned()
            .or_else(
                || match request.header().represented_party.as_ref()?.id.as_ref()? {
                    party::Id::Iin(iin) => Some(iin.clone()),
                    party::Id::Bin(_) => None,
                },
            )
            .unwrap_or_default();
        let status = result.fields.get(FIELD_STATUS).cloned().unwrap_or_default();
        let signer = &request.verified.signer;
        // A head authors only results (statuses and the queue's referrals carry a system's
        // seal): it must be the head of the organisation that decides the service.
        if signer.has_role(Role::Head) {
            let service = result
                .fields
                .get(FIELD_SERVICE_CODE)
                .map(String::as_str)
                .unwrap_or_default();
            check_result_signer(service, signer)?;
        }
        let mut fields: Vec<(&String, &String)> = result.fields.iter().collect();
        fields.sort();
        let fields_json = serde_json::to_string(
            &fields
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
        .unwrap_or_else(|_| "{}".to_owned());
        let now = self.clock.now();
        let row = NotificationRow {
            id: request.header().message_id.clone(),
            recipient_iin: recipient,
            registration_number: result.registration_number.clone(),
            status,
            kind: result.kind().as_str_name().to_owned(),
            text: result.text.clone(),
            fields_json,
            signer_subject: signer.subject.clone(),
            signer_iin: signer.iin.map(|iin| iin.to_string()).unwrap_or_default(),
            signer_bin: signer.bin.map(|bin| bin.to_string()).unwrap_or_default(),
            signer_serial: signer.serial.clone(),
            signer_roles: signer
                .roles
                .iter()
                .map(|role| format!("{role:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            signer_not_after: signer.not_after.format(&Rfc3339).unwrap_or_default(),
            received_at: i64::try_from(now.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX),
        };
        self.store
            .insert_notification(&row)
            .await
            .map_err(|error| Fault::new(StatusCode::Internal, format!("cabinet store: {error}")))?;
        Ok(Reply::message(&StatusCode::Success.to_proto(format!(
            "kept in the cabinet of {}",
            row.recipient_iin
        ))))
    }
}
