//! CatalogueService: anyone reads; admins create, change and retire.

use std::sync::Arc;

use chiso_proto::{
    convert::submission::{
        decode_data_element_definition, decode_indicator_definition, decode_rule_definition,
    },
    submission::v1::{
        self as pb, catalogue_change::Definition as Def, catalogue_service_server::CatalogueService,
    },
};
use chiso_runtime::{
    ServiceError, ServiceResult,
    policy::{Action, Resource, authorize, caller},
};
use tonic::{Request, Response, Status};

use super::Submission;
use crate::{
    catalogue::{self, Change, Item, Kind},
    idempotency::{self, IdempotencyKey},
};

#[derive(Clone)]
pub struct CatalogueApi(pub Arc<Submission>);

fn required<T>(definition: Option<T>) -> ServiceResult<T> {
    definition.ok_or_else(|| ServiceError::field("definition", "is required"))
}

impl CatalogueApi {
    fn read<T>(&self, request: &Request<T>) -> ServiceResult<()> {
        authorize(&caller(request)?, Action::ReadCatalogue, Resource::Global)
    }

    /// One admin change, once per idempotency key; the answer is the item
    /// as it now stands.
    async fn change<M: prost::Message + Clone>(
        &self,
        request: Request<M>,
        method: &'static str,
        request_id: impl Fn(&mut M) -> &mut String,
        change: impl Fn(&M) -> ServiceResult<Change>,
    ) -> ServiceResult<Def> {
        let principal = caller(&request)?;
        authorize(&principal, Action::ManageCatalogue, Resource::Global)?;
        let mut cleared = request.get_ref().clone();
        let raw_id = std::mem::take(request_id(&mut cleared));
        let idem = IdempotencyKey::new(&principal.subject, method, raw_id.trim(), &cleared)?;
        let actor = self.0.actor(&request, principal, idem.as_ref());
        let state = &self.0;
        let replayed = match &idem {
            Some(key) => idempotency::replay::<pb::CatalogueChange>(&state.db, key).await?,
            None => None,
        };
        let answer = match replayed {
            Some(answer) => answer,
            None => {
                let change = change(request.get_ref())?;
                let (actor, idem, change) = (&actor, idem.as_ref(), &change);
                let answer = idempotency::once(&state.db, idem, move || {
                    catalogue::apply(&state.db, &state.cache, actor, idem, change)
                })
                .await?;
                state.sequencer.notify_one();
                answer
            }
        };
        answer.definition.ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!("a catalogue answer without its item"))
        })
    }

    fn current(&self, kind: Kind, code: &str) -> ServiceResult<Def> {
        catalogue::current(&self.0.cache.get(), kind, code.trim()).ok_or_else(|| {
            ServiceError::NotFound(format!(
                "no {} has code {}",
                match kind {
                    Kind::Element => "data element",
                    Kind::Indicator => "indicator",
                    Kind::Rule => "validation rule",
                },
                code.trim()
            ))
        })
    }
}

fn element(def: Def) -> Result<Response<pb::DataElement>, Status> {
    match def {
        Def::DataElement(e) => Ok(Response::new(e)),
        _ => Err(Status::internal("internal error")),
    }
}

fn indicator(def: Def) -> Result<Response<pb::Indicator>, Status> {
    match def {
        Def::Indicator(i) => Ok(Response::new(i)),
        _ => Err(Status::internal("internal error")),
    }
}

fn rule(def: Def) -> Result<Response<pb::ValidationRule>, Status> {
    match def {
        Def::Rule(r) => Ok(Response::new(r)),
        _ => Err(Status::internal("internal error")),
    }
}

#[tonic::async_trait]
impl CatalogueService for CatalogueApi {
    async fn list_data_elements(
        &self,
        request: Request<pb::ListDataElementsRequest>,
    ) -> Result<Response<pb::ListDataElementsResponse>, Status> {
        self.read(&request)?;
        let defs = self.0.cache.get();
        let all = request.get_ref().include_retired;
        let data_elements = defs
            .catalogue
            .elements()
            .iter()
            .map(|e| {
                let retired = defs.retired_elements.contains(&e.code);
                (
                    retired,
                    chiso_proto::convert::submission::encode_data_element(e, retired),
                )
            })
            .filter(|(retired, _)| all || !retired)
            .map(|(_, e)| e)
            .collect();
        Ok(Response::new(pb::ListDataElementsResponse {
            data_elements,
        }))
    }

    async fn get_data_element(
        &self,
        request: Request<pb::GetDataElementRequest>,
    ) -> Result<Response<pb::DataElement>, Status> {
        self.read(&request)?;
        element(self.current(Kind::Element, &request.get_ref().code)?)
    }

    async fn create_data_element(
        &self,
        request: Request<pb::CreateDataElementRequest>,
    ) -> Result<Response<pb::DataElement>, Status> {
        let def = self
            .change(
                request,
                "CreateDataElement",
                |r| &mut r.request_id,
                |r| {
                    let d = required(r.definition.as_ref())?;
                    Ok(Change::Create(Item::Element(
                        decode_data_element_definition(d),
                    )))
                },
            )
            .await?;
        element(def)
    }

    async fn update_data_element(
        &self,
        request: Request<pb::UpdateDataElementRequest>,
    ) -> Result<Response<pb::DataElement>, Status> {
        let def = self
            .change(
                request,
                "UpdateDataElement",
                |r| &mut r.request_id,
                |r| {
                    let d = required(r.definition.as_ref())?;
                    Ok(Change::Update(Item::Element(
                        decode_data_element_definition(d),
                    )))
                },
            )
            .await?;
        element(def)
    }

    async fn retire_data_element(
        &self,
        request: Request<pb::RetireRequest>,
    ) -> Result<Response<pb::DataElement>, Status> {
        let def = self
            .change(
                request,
                "RetireDataElement",
                |r| &mut r.request_id,
                |r| Ok(Change::Retire(Kind::Element, r.code.trim().to_owned())),
            )
            .await?;
        element(def)
    }

    async fn list_indicators(
        &self,
        request: Request<pb::ListIndicatorsRequest>,
    ) -> Result<Response<pb::ListIndicatorsResponse>, Status> {
        self.read(&request)?;
        let defs = self.0.cache.get();
        let all = request.get_ref().include_retired;
        let indicators = defs
            .catalogue
            .indicators()
            .iter()
            .map(|i| {
                let retired = defs.retired_indicators.contains(&i.code);
                (
                    retired,
                    chiso_proto::convert::submission::encode_indicator(i, retired),
                )
            })
            .filter(|(retired, _)| all || !retired)
            .map(|(_, i)| i)
            .collect();
        Ok(Response::new(pb::ListIndicatorsResponse { indicators }))
    }

    async fn get_indicator(
        &self,
        request: Request<pb::GetIndicatorRequest>,
    ) -> Result<Response<pb::Indicator>, Status> {
        self.read(&request)?;
        indicator(self.current(Kind::Indicator, &request.get_ref().code)?)
    }

    async fn create_indicator(
        &self,
        request: Request<pb::CreateIndicatorRequest>,
    ) -> Result<Response<pb::Indicator>, Status> {
        let def = self
            .change(
                request,
                "CreateIndicator",
                |r| &mut r.request_id,
                |r| {
                    let d = required(r.definition.as_ref())?;
                    Ok(Change::Create(Item::Indicator(
                        decode_indicator_definition(d),
                    )))
                },
            )
            .await?;
        indicator(def)
    }

    async fn update_indicator(
        &self,
        request: Request<pb::UpdateIndicatorRequest>,
    ) -> Result<Response<pb::Indicator>, Status> {
        let def = self
            .change(
                request,
                "UpdateIndicator",
                |r| &mut r.request_id,
                |r| {
                    let d = required(r.definition.as_ref())?;
                    Ok(Change::Update(Item::Indicator(
                        decode_indicator_definition(d),
                    )))
                },
            )
            .await?;
        indicator(def)
    }

    async fn retire_indicator(
        &self,
        request: Request<pb::RetireRequest>,
    ) -> Result<Response<pb::Indicator>, Status> {
        let def = self
            .change(
                request,
                "RetireIndicator",
                |r| &mut r.request_id,
                |r| Ok(Change::Retire(Kind::Indicator, r.code.trim().to_owned())),
            )
            .await?;
        indicator(def)
    }

    async fn list_validation_rules(
        &self,
        request: Request<pb::ListValidationRulesRequest>,
    ) -> Result<Response<pb::ListValidationRulesResponse>, Status> {
        self.read(&request)?;
        let defs = self.0.cache.get();
        let all = request.get_ref().include_retired;
        let rules = defs
            .catalogue
            .rules()
            .iter()
            .map(|r| {
                let retired = defs.retired_rules.contains(&r.code);
                (
                    retired,
                    chiso_proto::convert::submission::encode_rule(r, retired),
                )
            })
            .filter(|(retired, _)| all || !retired)
            .map(|(_, r)| r)
            .collect();
        Ok(Response::new(pb::ListValidationRulesResponse { rules }))
    }

    async fn create_validation_rule(
        &self,
        request: Request<pb::CreateValidationRuleRequest>,
    ) -> Result<Response<pb::ValidationRule>, Status> {
        let def = self
            .change(
                request,
                "CreateValidationRule",
                |r| &mut r.request_id,
                |r| {
                    let d = required(r.definition.as_ref())?;
                    Ok(Change::Create(Item::Rule(decode_rule_definition(d))))
                },
            )
            .await?;
        rule(def)
    }

    async fn update_validation_rule(
        &self,
        request: Request<pb::UpdateValidationRuleRequest>,
    ) -> Result<Response<pb::ValidationRule>, Status> {
        let def = self
            .change(
                request,
                "UpdateValidationRule",
                |r| &mut r.request_id,
                |r| {
                    let d = required(r.definition.as_ref())?;
                    Ok(Change::Update(Item::Rule(decode_rule_definition(d))))
                },
            )
            .await?;
        rule(def)
    }

    async fn retire_validation_rule(
        &self,
        request: Request<pb::RetireRequest>,
    ) -> Result<Response<pb::ValidationRule>, Status> {
        let def = self
            .change(
                request,
                "RetireValidationRule",
                |r| &mut r.request_id,
                |r| Ok(Change::Retire(Kind::Rule, r.code.trim().to_owned())),
            )
            .await?;
        rule(def)
    }
}
