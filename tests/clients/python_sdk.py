"""Drives dep-gateway with the real Microsoft Graph beta SDK for Python (msgraph-beta-sdk).

Every served DEP operation goes through the SDK's typed request builders, pointed at the gateway
with a static bearer token. Run by tests/api/clients.rs (once per database, on a fresh gateway);
by hand:

    GATEWAY_URL=http://127.0.0.1:8080 GATEWAY_TOKEN=... APPLE_SIM_URL=http://127.0.0.1:8089 \
        .venv-tests/bin/python tests/clients/python_sdk.py

Environment:
    GATEWAY_URL         the gateway's public URL (no /beta, no trailing slash)
    GATEWAY_TOKEN       a ReadWrite token of a tenant with no data yet
    GATEWAY_READ_TOKEN  a Read-only token of the same tenant (403 checks)
    GATEWAY_PAGE_SIZE   the gateway's max_page_size (paging checks create more than two pages)
    APPLE_SIM_URL       the bundled Apple DEP simulator (server token upload, sync, release)

Prints one line per check and `N passed, N failed`; exits 1 on any failure.
"""

import asyncio
import base64
import json
import os
import sys
import time
import traceback
import uuid
from datetime import datetime, timedelta, timezone

import httpx
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph_beta import GraphServiceClient
from msgraph_beta.generated.device_app_management.vpp_tokens.vpp_tokens_request_builder import (
    VppTokensRequestBuilder,
)
from msgraph_beta.generated.device_management.dep_onboarding_settings.count.count_request_builder import (
    CountRequestBuilder,
)
from msgraph_beta.generated.device_management.dep_onboarding_settings.dep_onboarding_settings_request_builder import (
    DepOnboardingSettingsRequestBuilder,
)
from msgraph_beta.generated.device_management.dep_onboarding_settings.item.dep_onboarding_setting_item_request_builder import (
    DepOnboardingSettingItemRequestBuilder,
)
from msgraph_beta.generated.device_management.dep_onboarding_settings.item.enrollment_profiles.enrollment_profiles_request_builder import (
    EnrollmentProfilesRequestBuilder,
)
from msgraph_beta.generated.device_management.dep_onboarding_settings.item.enrollment_profiles.item.update_device_profile_assignment.update_device_profile_assignment_post_request_body import (
    UpdateDeviceProfileAssignmentPostRequestBody,
)
from msgraph_beta.generated.device_management.dep_onboarding_settings.item.imported_apple_device_identities.import_apple_device_identity_list.import_apple_device_identity_list_post_request_body import (
    ImportAppleDeviceIdentityListPostRequestBody,
)
from msgraph_beta.generated.device_management.dep_onboarding_settings.item.imported_apple_device_identities.imported_apple_device_identities_request_builder import (
    ImportedAppleDeviceIdentitiesRequestBuilder,
)
from msgraph_beta.generated.device_management.dep_onboarding_settings.item.release_apple_devices.release_apple_devices_post_request_body import (
    ReleaseAppleDevicesPostRequestBody,
)
from msgraph_beta.generated.device_management.dep_onboarding_settings.item.upload_dep_token.upload_dep_token_post_request_body import (
    UploadDepTokenPostRequestBody,
)
from msgraph_beta.generated.models.dep_enrollment_profile import DepEnrollmentProfile
from msgraph_beta.generated.models.dep_profile_admin_account_password_rotation_setting import (
    DepProfileAdminAccountPasswordRotationSetting,
)
from msgraph_beta.generated.models.dep_profile_delay_auto_rotation_setting import (
    DepProfileDelayAutoRotationSetting,
)
from msgraph_beta.generated.models.dep_i_o_s_enrollment_profile import DepIOSEnrollmentProfile
from msgraph_beta.generated.models.dep_mac_o_s_enrollment_profile import DepMacOSEnrollmentProfile
from msgraph_beta.generated.models.dep_onboarding_setting import DepOnboardingSetting
from msgraph_beta.generated.models.dep_onboarding_setting_collection_response import (
    DepOnboardingSettingCollectionResponse,
)
from msgraph_beta.generated.models.dep_token_type import DepTokenType
from msgraph_beta.generated.models.dep_tv_o_s_enrollment_profile import DepTvOSEnrollmentProfile
from msgraph_beta.generated.models.dep_vision_o_s_enrollment_profile import (
    DepVisionOSEnrollmentProfile,
)
from msgraph_beta.generated.models.enrollment_profile import EnrollmentProfile
from msgraph_beta.generated.models.enrollment_profile_collection_response import (
    EnrollmentProfileCollectionResponse,
)
from msgraph_beta.generated.models.i_tunes_pairing_mode import ITunesPairingMode
from msgraph_beta.generated.models.management_certificate_with_thumbprint import (
    ManagementCertificateWithThumbprint,
)
from msgraph_beta.generated.models.imported_apple_device_identity import ImportedAppleDeviceIdentity
from msgraph_beta.generated.models.imported_apple_device_identity_collection_response import (
    ImportedAppleDeviceIdentityCollectionResponse,
)
from msgraph_beta.generated.models.imported_apple_device_identity_result import (
    ImportedAppleDeviceIdentityResult,
)
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_beta.generated.models.platform import Platform
from msgraph_beta.generated.models.vpp_token import VppToken
from msgraph_beta.generated.models.vpp_token_account_type import VppTokenAccountType
from msgraph_beta.graph_request_adapter import GraphRequestAdapter
from msgraph_core import PageIterator


class StaticToken(AccessTokenProvider):
    """A fixed bearer token for any host (an empty allow-list means every host)."""

    def __init__(self, token: str) -> None:
        self._token = token
        self._hosts = AllowedHostsValidator([])

    async def get_authorization_token(self, uri, additional_authentication_context=None) -> str:
        return self._token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


def graph_client(base_url: str, token: str) -> GraphServiceClient:
    """The SDK pointed at the gateway: base URL `<gateway>/beta`, without a trailing slash."""
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token)))
    adapter.base_url = f"{base_url}/beta"
    return GraphServiceClient(request_adapter=adapter)


GATEWAY = os.environ["GATEWAY_URL"].rstrip("/")
CLIENT = graph_client(GATEWAY, os.environ["GATEWAY_TOKEN"])
READER = graph_client(GATEWAY, os.environ["GATEWAY_READ_TOKEN"])
PAGE_SIZE = int(os.environ.get("GATEWAY_PAGE_SIZE", "1000"))
SIM = os.environ.get("APPLE_SIM_URL", "").rstrip("/")

SETTINGS = CLIENT.device_management.dep_onboarding_settings
RUN = uuid.uuid4().hex[:8]
state: dict = {}
results: list = []


def check(cond, what: str) -> None:
    if not cond:
        raise AssertionError(what)


async def expect_error(coro, status: int, code: str) -> ODataError:
    """Awaits `coro`, which must raise an ODataError with `status` and Graph `error.code`."""
    try:
        await coro
    except ODataError as e:
        check(e.response_status_code == status, f"status {e.response_status_code}, wanted {status}")
        check(e.error is not None and e.error.code == code, f"code {e.error and e.error.code}, wanted {code}")
        check(e.error.message, "error.message is empty")
        return e
    raise AssertionError(f"no error, wanted {status} {code}")


def setting(sid: str) -> DepOnboardingSettingItemRequestBuilder:
    return SETTINGS.by_dep_onboarding_setting_id(sid)


def profiles(sid: str) -> EnrollmentProfilesRequestBuilder:
    return setting(sid).enrollment_profiles


def identities(sid: str) -> ImportedAppleDeviceIdentitiesRequestBuilder:
    return setting(sid).imported_apple_device_identities


async def iterate_all(first_page) -> tuple:
    """All items through msgraph-core's PageIterator, and the number of pages it fetched.

    The iterator parses every next page with the first page's type (a typed collection response).
    """
    items = []
    pages = 1
    iterator = PageIterator(first_page, CLIENT.request_adapter)
    original_next = iterator.next

    async def counting_next():
        nonlocal pages
        page = await original_next()
        if page is not None:
            pages += 1
        return page

    iterator.next = counting_next
    await iterator.iterate(lambda item: items.append(item) or True)
    return items, pages


# ---------------------------------------------------------------------------------------------
# depOnboardingSettings


async def t_device_management_singleton():
    dm = await CLIENT.device_management.get()
    check(dm is not None, "no deviceManagement")
    check(dm.maximum_dep_tokens and dm.maximum_dep_tokens > 0, f"maximumDepTokens {dm.maximum_dep_tokens}")
    check(dm.intune_account_id is not None, "no intuneAccountId")


async def t_settings_create():
    created = await SETTINGS.post(DepOnboardingSetting(token_name=f"py-{RUN}-main", data_sharing_consent_granted=True))
    check(created is not None and created.id, "no id")
    check(created.token_name == f"py-{RUN}-main", f"tokenName {created.token_name}")
    check(created.token_type == DepTokenType.None_, f"tokenType {created.token_type}")
    check(created.last_modified_date_time is not None, "lastModifiedDateTime not parsed")
    state["main"] = created.id


async def t_settings_get_and_select():
    got = await setting(state["main"]).get()
    check(got.id == state["main"] and got.token_name == f"py-{RUN}-main", "wrong setting")
    check(got.share_token_with_school_data_sync_service is False, "share flag")
    cfg = RequestConfiguration(
        query_parameters=DepOnboardingSettingItemRequestBuilder.DepOnboardingSettingItemRequestBuilderGetQueryParameters(
            select=["id", "tokenName"]
        )
    )
    sel = await setting(state["main"]).get(request_configuration=cfg)
    check(sel.token_name == f"py-{RUN}-main", "select lost tokenName")
    check(sel.token_type is None and sel.apple_identifier is None, "select returned unselected properties")


async def t_settings_paging_with_page_iterator():
    ids = {state["main"]}
    for i in range(2 * PAGE_SIZE):
        created = await SETTINGS.post(DepOnboardingSetting(token_name=f"py-{RUN}-{i:02}"))
        ids.add(created.id)
    state["setting_ids"] = ids
    first = await SETTINGS.get()
    check(isinstance(first, DepOnboardingSettingCollectionResponse), f"parsed as {type(first).__name__}")
    check(len(first.value) <= PAGE_SIZE, f"first page has {len(first.value)} items")
    check(first.odata_next_link and first.odata_next_link.startswith(GATEWAY), f"nextLink {first.odata_next_link}")
    items, pages = await iterate_all(first)
    got = [s.id for s in items]
    check(len(got) == len(set(got)), "an item came twice")
    check(set(got) == ids, f"iterated {len(got)} settings, created {len(ids)}")
    check(pages >= 3, f"only {pages} page(s)")
    check(all(isinstance(s, DepOnboardingSetting) for s in items), "items are not DepOnboardingSetting")


async def t_settings_query_options():
    qp = DepOnboardingSettingsRequestBuilder.DepOnboardingSettingsRequestBuilderGetQueryParameters(
        count=True,
        filter=f"startswith(tokenName,'py-{RUN}-0')",
        select=["id", "tokenName"],
        orderby=["tokenName desc"],
        top=2,
    )
    page = await SETTINGS.get(request_configuration=RequestConfiguration(query_parameters=qp))
    expected = sorted((n for n in (f"py-{RUN}-{i:02}" for i in range(2 * PAGE_SIZE)) if n.startswith(f"py-{RUN}-0")), reverse=True)
    check(page.odata_count == len(expected), f"@odata.count {page.odata_count}, wanted {len(expected)}")
    check([s.token_name for s in page.value] == expected[:2], f"got {[s.token_name for s in page.value]}")
    check(page.value[0].token_type is None, "$select ignored")


async def t_settings_count():
    n = await SETTINGS.count.get()
    check(n == len(state["setting_ids"]), f"$count {n}, wanted {len(state['setting_ids'])}")
    qp = CountRequestBuilder.CountRequestBuilderGetQueryParameters(filter=f"tokenName eq 'py-{RUN}-main'")
    n = await SETTINGS.count.get(request_configuration=RequestConfiguration(query_parameters=qp))
    check(n == 1, f"filtered $count {n}")


async def t_settings_patch():
    sid = state["main"]
    result = await setting(sid).patch(DepOnboardingSetting(token_name=f"py-{RUN}-main", role_scope_tag_ids=["0", "7"]))
    check(result is None, "PATCH should be 204 (no body)")
    got = await setting(sid).get()
    check(got.role_scope_tag_ids == ["0", "7"], f"roleScopeTagIds {got.role_scope_tag_ids}")
    # A GET body PATCHed back unchanged (read-only properties included, timestamps at Python's
    # microsecond precision) is accepted and changes nothing.
    await setting(sid).patch(got)
    again = await setting(sid).get()
    check(again.token_name == got.token_name and again.role_scope_tag_ids == ["0", "7"], "round trip changed it")


async def t_settings_delete_then_404():
    victim = await SETTINGS.post(DepOnboardingSetting(token_name=f"py-{RUN}-victim"))
    await setting(victim.id).delete()
    await expect_error(setting(victim.id).get(), 404, "ResourceNotFound")
    await expect_error(setting(victim.id).delete(), 404, "ResourceNotFound")


async def t_settings_errors():
    qp = DepOnboardingSettingsRequestBuilder.DepOnboardingSettingsRequestBuilderGetQueryParameters(filter="tokenName eq")
    await expect_error(SETTINGS.get(request_configuration=RequestConfiguration(query_parameters=qp)), 400, "BadRequest")
    qp = DepOnboardingSettingsRequestBuilder.DepOnboardingSettingsRequestBuilderGetQueryParameters(filter="frobnicate eq 1")
    await expect_error(SETTINGS.get(request_configuration=RequestConfiguration(query_parameters=qp)), 400, "BadRequest")
    # A read-only token reads but cannot write.
    readable = await READER.device_management.dep_onboarding_settings.by_dep_onboarding_setting_id(state["main"]).get()
    check(readable.id == state["main"], "read-only token cannot read")
    await expect_error(
        READER.device_management.dep_onboarding_settings.post(DepOnboardingSetting(token_name="nope")), 403, "Forbidden"
    )
    stranger = graph_client(GATEWAY, "not-a-token")
    await expect_error(stranger.device_management.dep_onboarding_settings.get(), 401, "InvalidAuthenticationToken")


# ---------------------------------------------------------------------------------------------
# enrollmentProfiles: every type, derived properties round trip


async def t_profiles_derived_types_round_trip():
    sid = state["main"]
    ios = DepIOSEnrollmentProfile(
        display_name="iOS",
        description="iPhones",
        requires_user_authentication=False,
        is_mandatory=True,
        supervised_mode_enabled=True,
        enabled_skip_keys=["Siri", "Privacy"],
        device_name_template="{{SERIAL}}",
        i_tunes_pairing_mode=ITunesPairingMode.Allow,
        enable_shared_i_pad=True,
        shared_i_pad_maximum_user_count=4,
        user_session_timeout_in_seconds=600,
        management_certificates=[ManagementCertificateWithThumbprint(thumbprint="AB12CD", certificate="MIIBcert")],
    )
    mac = DepMacOSEnrollmentProfile(
        display_name="macOS",
        requires_user_authentication=False,
        admin_account_user_name="admin",
        admin_account_full_name="Local Admin",
        admin_account_password="s3cret!",
        hide_admin_account=True,
        file_vault_disabled=True,
        auto_unlock_with_watch_disabled=True,
        dep_profile_admin_account_password_rotation_setting=DepProfileAdminAccountPasswordRotationSetting(
            auto_rotation_period_in_days=30,
            dep_profile_delay_auto_rotation_setting=DepProfileDelayAutoRotationSetting(
                on_retrieval_auto_rotate_password_enabled=True, on_retrieval_delay_auto_rotate_password_in_hours=4
            ),
        ),
    )
    # tvOS and visionOS profiles have only enrollmentProfile's properties.
    tv = DepTvOSEnrollmentProfile(display_name="tvOS", description="Apple TV", requires_user_authentication=False)
    vision = DepVisionOSEnrollmentProfile(display_name="visionOS", description="Vision Pro", requires_user_authentication=False)
    legacy = DepEnrollmentProfile(display_name="legacy", requires_user_authentication=False, i_tunes_pairing_mode=ITunesPairingMode.Disallow)
    configurator = EnrollmentProfile(display_name="Lab carts", description="Configurator", requires_user_authentication=False)
    created = {}
    for name, body in [("ios", ios), ("mac", mac), ("tv", tv), ("vision", vision), ("legacy", legacy), ("configurator", configurator)]:
        made = await profiles(sid).post(body)
        check(type(made) is type(body), f"{name}: created a {type(made).__name__}")
        check(made.id and made.id.startswith(f"{sid}_"), f"{name}: id {made.id}")
        created[name] = made.id
    state["profiles"] = created

    got = await profiles(sid).by_enrollment_profile_id(created["ios"]).get()
    check(isinstance(got, DepIOSEnrollmentProfile), f"iOS came back as {type(got).__name__}")
    check(got.i_tunes_pairing_mode == ITunesPairingMode.Allow, f"iTunesPairingMode {got.i_tunes_pairing_mode}")
    check(got.shared_i_pad_maximum_user_count == 4 and got.enable_shared_i_pad is True, "shared iPad")
    check(got.enabled_skip_keys == ["Siri", "Privacy"], f"enabledSkipKeys {got.enabled_skip_keys}")
    check(got.device_name_template == "{{SERIAL}}" and got.is_mandatory and got.supervised_mode_enabled, "base props")
    check(got.user_session_timeout_in_seconds == 600, "userSessionTimeoutInSeconds")
    certs = got.management_certificates or []
    check(len(certs) == 1 and isinstance(certs[0], ManagementCertificateWithThumbprint), f"managementCertificates {certs}")
    check(certs[0].thumbprint == "AB12CD" and certs[0].certificate == "MIIBcert", "managementCertificates values")
    check(set(got.additional_data) <= {"@odata.context"}, f"properties the SDK does not know: {got.additional_data}")

    got = await profiles(sid).by_enrollment_profile_id(created["mac"]).get()
    check(isinstance(got, DepMacOSEnrollmentProfile), f"macOS came back as {type(got).__name__}")
    check(got.admin_account_user_name == "admin" and got.admin_account_full_name == "Local Admin", "admin account")
    check(got.hide_admin_account and got.file_vault_disabled and got.auto_unlock_with_watch_disabled, "mac flags")
    check(got.admin_account_password is None, "adminAccountPassword must never be returned")
    rotation = got.dep_profile_admin_account_password_rotation_setting
    check(isinstance(rotation, DepProfileAdminAccountPasswordRotationSetting) and rotation.auto_rotation_period_in_days == 30, "rotation")
    delay = rotation.dep_profile_delay_auto_rotation_setting
    check(delay.on_retrieval_auto_rotate_password_enabled is True and delay.on_retrieval_delay_auto_rotate_password_in_hours == 4, "delay")

    got = await profiles(sid).by_enrollment_profile_id(created["tv"]).get()
    check(isinstance(got, DepTvOSEnrollmentProfile) and got.description == "Apple TV", "tvOS")
    got = await profiles(sid).by_enrollment_profile_id(created["vision"]).get()
    check(isinstance(got, DepVisionOSEnrollmentProfile) and got.description == "Vision Pro", "visionOS")
    got = await profiles(sid).by_enrollment_profile_id(created["legacy"]).get()
    check(type(got) is DepEnrollmentProfile and got.i_tunes_pairing_mode == ITunesPairingMode.Disallow, "legacy")
    got = await profiles(sid).by_enrollment_profile_id(created["configurator"]).get()
    check(type(got) is EnrollmentProfile and got.configuration_endpoint_url, "configurator has no configurationEndpointUrl")


async def t_profiles_list_paging_and_count():
    sid = state["main"]
    first = await profiles(sid).get()
    check(isinstance(first, EnrollmentProfileCollectionResponse), f"parsed as {type(first).__name__}")
    check(first.odata_next_link, "no nextLink with more profiles than a page")
    items, pages = await iterate_all(first)
    by_id = {p.id: p for p in items}
    check(set(by_id) == set(state["profiles"].values()), f"iterated {sorted(by_id)}")
    check(pages >= 2, f"{pages} page(s)")
    check(isinstance(by_id[state["profiles"]["mac"]], DepMacOSEnrollmentProfile), "list lost the derived type")
    n = await profiles(sid).count.get()
    check(n == len(state["profiles"]), f"$count {n}")
    qp = EnrollmentProfilesRequestBuilder.EnrollmentProfilesRequestBuilderGetQueryParameters(filter="displayName eq 'tvOS'", count=True)
    page = await profiles(sid).get(request_configuration=RequestConfiguration(query_parameters=qp))
    check([p.id for p in page.value] == [state["profiles"]["tv"]] and page.odata_count == 1, "filter on profiles")


async def t_profiles_patch_derived():
    sid = state["main"]
    item = profiles(sid).by_enrollment_profile_id(state["profiles"]["ios"])
    result = await item.patch(DepIOSEnrollmentProfile(description="patched", shared_i_pad_maximum_user_count=8))
    check(result is None, "PATCH should be 204")
    got = await item.get()
    check(got.description == "patched" and got.shared_i_pad_maximum_user_count == 8, "patch not applied")
    check(got.i_tunes_pairing_mode == ITunesPairingMode.Allow, "patch lost other properties")
    # Every profile's GET body PATCHes back unchanged.
    for name, pid in state["profiles"].items():
        body = await profiles(sid).by_enrollment_profile_id(pid).get()
        await profiles(sid).by_enrollment_profile_id(pid).patch(body)
        back = await profiles(sid).by_enrollment_profile_id(pid).get()
        check(back.display_name == body.display_name and type(back) is type(body), f"{name} round trip")
    # The stored type is fixed: a PATCH with another type is rejected and changes nothing.
    await expect_error(item.patch(DepMacOSEnrollmentProfile(description="x")), 400, "BadRequest")
    check((await item.get()).description == "patched", "rejected PATCH changed the profile")


async def t_profiles_set_default_and_default_navigation():
    sid = state["main"]
    await profiles(sid).by_enrollment_profile_id(state["profiles"]["ios"]).set_default_profile.post()
    default = await setting(sid).default_ios_enrollment_profile.get()
    check(isinstance(default, DepIOSEnrollmentProfile) and default.id == state["profiles"]["ios"], "defaultIosEnrollmentProfile")
    check(default.is_default is True, "isDefault not set")
    await profiles(sid).by_enrollment_profile_id(state["profiles"]["mac"]).set_default_profile.post()
    mac = await setting(sid).default_mac_os_enrollment_profile.get()
    check(isinstance(mac, DepMacOSEnrollmentProfile) and mac.id == state["profiles"]["mac"], "defaultMacOsEnrollmentProfile")
    await profiles(sid).by_enrollment_profile_id(state["profiles"]["tv"]).set_default_profile.post()
    tv = await setting(sid).default_tv_o_s_enrollment_profile.get()
    check(isinstance(tv, DepTvOSEnrollmentProfile) and tv.id == state["profiles"]["tv"], "defaultTvOSEnrollmentProfile")
    # No visionOS default yet: Graph answers 204, which the SDK returns as None.
    check(await setting(sid).default_vision_o_s_enrollment_profile.get() is None, "no visionOS default expected")
    await profiles(sid).by_enrollment_profile_id(state["profiles"]["vision"]).set_default_profile.post()
    vision = await setting(sid).default_vision_o_s_enrollment_profile.get()
    check(isinstance(vision, DepVisionOSEnrollmentProfile), "defaultVisionOSEnrollmentProfile")


async def t_settings_expand_navigations():
    sid = state["main"]
    qp = DepOnboardingSettingItemRequestBuilder.DepOnboardingSettingItemRequestBuilderGetQueryParameters(
        expand=["enrollmentProfiles", "defaultIosEnrollmentProfile"]
    )
    got = await setting(sid).get(request_configuration=RequestConfiguration(query_parameters=qp))
    check(got.enrollment_profiles is not None, "$expand=enrollmentProfiles ignored")
    check({p.id for p in got.enrollment_profiles} == set(state["profiles"].values()), f"expanded profiles {sorted(p.id for p in got.enrollment_profiles)} != {sorted(state['profiles'].values())}")
    check(any(isinstance(p, DepMacOSEnrollmentProfile) for p in got.enrollment_profiles), "expanded items lost their type")
    check(isinstance(got.default_ios_enrollment_profile, DepIOSEnrollmentProfile), "expanded default profile")
    check(got.default_ios_enrollment_profile.id == state["profiles"]["ios"], "expanded default profile id")


async def t_profiles_export_mobile_config():
    sid = state["main"]
    exported = await profiles(sid).by_enrollment_profile_id(state["profiles"]["configurator"]).export_mobile_config.get()
    plist = base64.b64decode(exported.value).decode()
    check(plist.startswith("<?xml") and "<plist" in plist and "Lab carts" in plist, f"not a mobileconfig: {plist[:80]}")
    await expect_error(
        profiles(sid).by_enrollment_profile_id(state["profiles"]["ios"]).export_mobile_config.get(), 400, "BadRequest"
    )


async def t_profiles_errors():
    sid = state["main"]
    await expect_error(profiles(sid).by_enrollment_profile_id(f"{sid}_{uuid.uuid4()}").get(), 404, "ResourceNotFound")
    await expect_error(profiles(sid).post(DepIOSEnrollmentProfile(shared_i_pad_maximum_user_count=-1)), 400, "BadRequest")
    await expect_error(
        profiles(str(uuid.uuid4())).post(DepIOSEnrollmentProfile(display_name="orphan")), 404, "ResourceNotFound"
    )


async def t_profiles_delete():
    sid = state["main"]
    extra = await profiles(sid).post(DepTvOSEnrollmentProfile(display_name="short-lived", requires_user_authentication=False))
    await profiles(sid).by_enrollment_profile_id(extra.id).delete()
    await expect_error(profiles(sid).by_enrollment_profile_id(extra.id).get(), 404, "ResourceNotFound")


# ---------------------------------------------------------------------------------------------
# importedAppleDeviceIdentities


def serial(i: int) -> str:
    return f"PY{RUN.upper()}{i:02}"


async def t_identities_import_list():
    sid = state["main"]
    body = ImportAppleDeviceIdentityListPostRequestBody(
        imported_apple_device_identities=[
            ImportedAppleDeviceIdentity(serial_number=serial(i), platform=Platform.Ios, description=f"imported {i}")
            for i in range(2 * PAGE_SIZE)
        ],
        overwrite_imported_device_identities=False,
    )
    result = await identities(sid).import_apple_device_identity_list.post(body)
    check(len(result.value) == 2 * PAGE_SIZE, f"{len(result.value)} results")
    check(all(isinstance(r, ImportedAppleDeviceIdentityResult) for r in result.value), "results are not typed")
    check(all(r.status is True for r in result.value), f"statuses {[r.status for r in result.value]}")
    check({r.serial_number for r in result.value} == {serial(i) for i in range(2 * PAGE_SIZE)}, "serials")
    # Importing the same serials again without overwrite reports them as not imported.
    again = await identities(sid).import_apple_device_identity_list.post(body)
    check(all(r.status is False for r in again.value), "re-import without overwrite succeeded")


async def t_identities_crud_paging_count():
    sid = state["main"]
    made = await identities(sid).post(
        ImportedAppleDeviceIdentity(serial_number=serial(99).lower(), platform=Platform.MacOS, description="single")
    )
    check(made.serial_number == serial(99), f"serial not normalised: {made.serial_number}")
    check(made.platform == Platform.MacOS, f"platform {made.platform}")
    item = identities(sid).by_imported_apple_device_identity_id(made.id)
    got = await item.get()
    check(got.description == "single" and got.created_date_time is not None, "get")
    await item.patch(ImportedAppleDeviceIdentity(description="renamed"))
    check((await item.get()).description == "renamed", "patch not applied")
    first = await identities(sid).get()
    check(isinstance(first, ImportedAppleDeviceIdentityCollectionResponse), f"parsed as {type(first).__name__}")
    items, pages = await iterate_all(first)
    check(len(items) == 2 * PAGE_SIZE + 1 and pages >= 3, f"{len(items)} identities in {pages} pages")
    n = await identities(sid).count.get()
    check(n == 2 * PAGE_SIZE + 1, f"$count {n}")
    qp = ImportedAppleDeviceIdentitiesRequestBuilder.ImportedAppleDeviceIdentitiesRequestBuilderGetQueryParameters(
        filter="platform eq 'macOS'", count=True
    )
    page = await identities(sid).get(request_configuration=RequestConfiguration(query_parameters=qp))
    check([i.id for i in page.value] == [made.id] and page.odata_count == 1, "filter on platform")
    qp = ImportedAppleDeviceIdentitiesRequestBuilder.ImportedAppleDeviceIdentitiesRequestBuilderGetQueryParameters(
        search=f'"{serial(1)}"'
    )
    page = await identities(sid).get(request_configuration=RequestConfiguration(query_parameters=qp))
    check([i.serial_number for i in page.value] == [serial(1)], f"$search found {[i.serial_number for i in page.value]}")
    await item.delete()
    await expect_error(item.get(), 404, "ResourceNotFound")


async def t_profiles_update_device_profile_assignment():
    sid = state["main"]
    pid = state["profiles"]["ios"]
    assign = profiles(sid).by_enrollment_profile_id(pid).update_device_profile_assignment
    await assign.post(UpdateDeviceProfileAssignmentPostRequestBody(device_ids=[serial(0), serial(1)]))
    # As in Intune, an identity records the profile id's GUID part ({settingId}_{guid}).
    qp = ImportedAppleDeviceIdentitiesRequestBuilder.ImportedAppleDeviceIdentitiesRequestBuilderGetQueryParameters(
        filter=f"requestedEnrollmentProfileId eq '{pid.split('_', 1)[1]}'"
    )
    page = await identities(sid).get(request_configuration=RequestConfiguration(query_parameters=qp))
    check(sorted(i.serial_number for i in page.value) == [serial(0), serial(1)], "assignment not recorded")
    check(all(i.requested_enrollment_profile_assignment_date_time is not None for i in page.value), "assignment time")
    assigned = page.value[0]
    await identities(sid).by_imported_apple_device_identity_id(assigned.id).patch(assigned)
    back = await identities(sid).by_imported_apple_device_identity_id(assigned.id).get()
    check(back.requested_enrollment_profile_id == assigned.requested_enrollment_profile_id, "identity round trip")
    await expect_error(
        assign.post(UpdateDeviceProfileAssignmentPostRequestBody(device_ids=["NOSUCHSERIAL1"])), 400, "BadRequest"
    )


# ---------------------------------------------------------------------------------------------
# Apple actions (against the simulator)


async def t_encryption_keys():
    sid = state["main"]
    first = await setting(sid).get_encryption_public_key.get()
    check(first.value and "BEGIN CERTIFICATE" in first.value, f"getEncryptionPublicKey {first.value!r:.60}")
    again = await setting(sid).get_encryption_public_key.get()
    check(again.value == first.value, "getEncryptionPublicKey is not stable")
    generated = await setting(sid).generate_encryption_public_key.post()
    check(generated.value and "BEGIN CERTIFICATE" in generated.value and generated.value != first.value, "new key")
    current = await setting(sid).get_encryption_public_key.get()
    check(current.value == generated.value, "getEncryptionPublicKey does not return the generated key")
    state["public_key"] = current.value


async def t_upload_dep_token():
    check(SIM, "APPLE_SIM_URL is not set")
    sid = state["main"]
    server = f"py-{RUN}"
    async with httpx.AsyncClient(base_url=SIM) as sim:
        resp = await sim.post("/admin/servers", json={"name": server, "devices": 2 * PAGE_SIZE + 1})
        check(resp.status_code in (200, 201), f"simulator: {resp.status_code} {resp.text}")
        resp = await sim.post(f"/admin/servers/{server}/p7m", content=state["public_key"])
        check(resp.status_code == 200, f"simulator p7m: {resp.status_code} {resp.text}")
        p7m = resp.text
    await setting(sid).upload_dep_token.post(UploadDepTokenPostRequestBody(apple_id="mdm@example.com", dep_token=p7m))
    got = await setting(sid).get()
    check(got.token_type == DepTokenType.Dep, f"tokenType {got.token_type}")
    check(got.apple_identifier == "mdm@example.com", f"appleIdentifier {got.apple_identifier}")
    check(got.token_expiration_date_time and got.token_expiration_date_time > datetime.now(timezone.utc), "expiry")
    state["server"] = server
    await expect_error(
        setting(sid).upload_dep_token.post(UploadDepTokenPostRequestBody(apple_id="mdm@example.com", dep_token="garbage")),
        400,
        "BadRequest",
    )


async def t_sync_with_apple():
    sid = state["main"]
    await setting(sid).sync_with_apple_device_enrollment_program.post()
    deadline = time.monotonic() + 60
    got = None
    while time.monotonic() < deadline:
        got = await setting(sid).get()
        if got.last_successful_sync_date_time and got.last_successful_sync_date_time.year > 2000:
            break
        await asyncio.sleep(0.2)
    check(got.last_successful_sync_date_time.year > 2000, f"no successful sync: error {got.last_sync_error_code}")
    check(got.last_sync_triggered_date_time.year > 2000, "lastSyncTriggeredDateTime not set")
    check(got.synced_device_count == 2 * PAGE_SIZE + 1, f"syncedDeviceCount {got.synced_device_count}")
    await setting(sid).patch(got)  # every sync timestamp set: the GET body still PATCHes back
    qp = ImportedAppleDeviceIdentitiesRequestBuilder.ImportedAppleDeviceIdentitiesRequestBuilderGetQueryParameters(
        filter="discoverySource eq 'deviceEnrollmentProgram'", count=True, top=1
    )
    page = await identities(sid).get(request_configuration=RequestConfiguration(query_parameters=qp))
    check(page.odata_count == 2 * PAGE_SIZE + 1, f"{page.odata_count} synced identities")
    state["synced_serial"] = page.value[0].serial_number


async def t_release_apple_devices():
    sid = state["main"]
    sn = state["synced_serial"]
    await setting(sid).release_apple_devices.post(ReleaseAppleDevicesPostRequestBody(dep_token="release", device_serial_numbers=[sn]))
    qp = ImportedAppleDeviceIdentitiesRequestBuilder.ImportedAppleDeviceIdentitiesRequestBuilderGetQueryParameters(
        filter=f"serialNumber eq '{sn}'"
    )
    page = await identities(sid).get(request_configuration=RequestConfiguration(query_parameters=qp))
    check(len(page.value) == 1 and page.value[0].is_deleted is True, "released device not marked isDeleted")


async def t_school_data_sync_share_unshare():
    sid = state["main"]
    await setting(sid).share_for_school_data_sync_service.post()
    check((await setting(sid).get()).share_token_with_school_data_sync_service is True, "share")
    await setting(sid).unshare_for_school_data_sync_service.post()
    check((await setting(sid).get()).share_token_with_school_data_sync_service is False, "unshare")
    await expect_error(
        READER.device_management.dep_onboarding_settings.by_dep_onboarding_setting_id(sid).share_for_school_data_sync_service.post(),
        403,
        "Forbidden",
    )


# ---------------------------------------------------------------------------------------------
# VPP tokens and getExpiringVppTokenCount


def vpptoken_file(org: str, expires: datetime) -> str:
    """The content of a `.vpptoken` file: Base64 of {token, expDate, orgName}."""
    inner = {"token": f"inner-{uuid.uuid4().hex}", "expDate": expires.strftime("%Y-%m-%dT%H:%M:%S+0000"), "orgName": org}
    return base64.b64encode(json.dumps(inner).encode()).decode()


async def t_vpp_tokens_crud():
    vpp = CLIENT.device_app_management.vpp_tokens
    soon = datetime.now(timezone.utc) + timedelta(days=10)
    later = datetime.now(timezone.utc) + timedelta(days=400)
    a = await vpp.post(VppToken(token=vpptoken_file("Contoso", soon), display_name="soon", apple_id="vpp@contoso.com",
                                vpp_token_account_type=VppTokenAccountType.Business))
    b = await vpp.post(VppToken(token=vpptoken_file("Fabrikam", later), display_name="later"))
    check(a.token is None and b.token is None, "the token is returned")
    check(a.organization_name == "Contoso" and a.expiration_date_time.date() == soon.date(), "read from the file")
    item = vpp.by_vpp_token_id(a.id)
    await item.patch(VppToken(display_name="renamed", automatically_update_apps=True))
    got = await item.get()
    check(got.display_name == "renamed" and got.automatically_update_apps is True, "patch")
    await item.patch(got)
    check((await item.get()).display_name == "renamed", "vppToken round trip")
    listed = await vpp.get(request_configuration=RequestConfiguration(
        query_parameters=VppTokensRequestBuilder.VppTokensRequestBuilderGetQueryParameters(orderby=["displayName"])))
    check([t.id for t in listed.value] == [b.id, a.id], f"list {[t.display_name for t in listed.value]}")
    check(await vpp.count.get() == 2, "vppTokens $count")

    cutoff = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    expiring = await SETTINGS.get_expiring_vpp_token_count_with_expiring_before_date_time(cutoff).get()
    check(expiring.value == 1, f"getExpiringVppTokenCount {expiring.value}")
    await item.delete()
    await expect_error(item.get(), 404, "ResourceNotFound")
    expiring = await SETTINGS.get_expiring_vpp_token_count_with_expiring_before_date_time(cutoff).get()
    check(expiring.value == 0, f"getExpiringVppTokenCount after delete {expiring.value}")
    await expect_error(
        SETTINGS.get_expiring_vpp_token_count_with_expiring_before_date_time("not-a-date").get(), 400, "BadRequest"
    )


# ---------------------------------------------------------------------------------------------

CHECKS = [
    t_device_management_singleton,
    t_settings_create,
    t_settings_get_and_select,
    t_settings_paging_with_page_iterator,
    t_settings_query_options,
    t_settings_count,
    t_settings_patch,
    t_settings_delete_then_404,
    t_settings_errors,
    t_profiles_derived_types_round_trip,
    t_profiles_list_paging_and_count,
    t_profiles_patch_derived,
    t_profiles_set_default_and_default_navigation,
    t_settings_expand_navigations,
    t_profiles_export_mobile_config,
    t_profiles_errors,
    t_profiles_delete,
    t_identities_import_list,
    t_identities_crud_paging_count,
    t_profiles_update_device_profile_assignment,
    t_encryption_keys,
    t_upload_dep_token,
    t_sync_with_apple,
    t_release_apple_devices,
    t_school_data_sync_share_unshare,
    t_vpp_tokens_crud,
]


async def main() -> int:
    passed = failed = 0
    for check_fn in CHECKS:
        name = check_fn.__name__[2:]
        started = time.monotonic()
        try:
            await check_fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported, the run goes on
            failed += 1
            detail = f"{type(e).__name__}: {e}"
            if isinstance(e, ODataError) and e.error is not None:
                detail = f"ODataError {e.response_status_code} {e.error.code}: {e.error.message}"
            print(f"FAIL {name}: {detail}", flush=True)
            if not isinstance(e, (AssertionError, ODataError)):
                traceback.print_exc(limit=-3)
        else:
            passed += 1
            print(f"ok   {name} ({time.monotonic() - started:.2f}s)", flush=True)
    print(f"python msgraph-beta-sdk: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
