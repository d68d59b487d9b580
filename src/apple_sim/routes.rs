//! The route table: Apple's endpoints (a wrong method answers `405` with an empty body, like
//! depsim's `invalid_method`) and the admin API.

use actix_web::{HttpResponse, web};

use super::{admin, api_devices, api_profiles, api_session};

async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed().finish()
}

/// Unknown paths: `404 NOT_FOUND`.
pub(crate) async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain;charset=UTF8")
        .body("NOT_FOUND")
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// Registers every route.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(8 * 1024 * 1024))
        .service(resource("/session").route(web::get().to(api_session::get_session)))
        .service(resource("/account").route(web::get().to(api_session::get_account)))
        .service(resource("/server/devices").route(web::post().to(api_devices::fetch_devices)))
        .service(resource("/devices/sync").route(web::post().to(api_devices::sync_devices)))
        .service(resource("/devices").route(web::post().to(api_devices::device_details)))
        .service(resource("/devices/disown").route(web::post().to(api_devices::disown_devices)))
        .service(
            resource("/profile")
                .route(web::post().to(api_profiles::define_profile))
                .route(web::get().to(api_profiles::get_profile)),
        )
        .service(
            resource("/profile/devices")
                .route(web::post().to(api_profiles::assign_profile))
                .route(web::put().to(api_profiles::assign_profile))
                .route(web::delete().to(api_profiles::remove_profile)),
        )
        .configure(admin::configure);
}
