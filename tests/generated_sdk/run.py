"""Drives a running gateway through a Python client generated from openapi/openapi.json by
openapi-python-client, making the calls a Graph user makes. Prints `N passed, N failed` and exits
non-zero on any failure.

Environment:
  GATEWAY_URL    base URL of the gateway, e.g. http://127.0.0.1:8080
  GATEWAY_TOKEN  a bearer token with DeviceManagementServiceConfig.ReadWrite.All
  SDK_DIR        directory holding the generated package `graph_client`
"""

import base64
import datetime
import json
import os
import sys
import traceback
import uuid
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.environ["SDK_DIR"])

from graph_client import AuthenticatedClient  # noqa: E402
from graph_client.api.device_app_management_vpp_token import (  # noqa: E402
    device_app_management_create_vpp_token as create_vpp_token,
    device_app_management_list_vpp_token as list_vpp_tokens,
)
from graph_client.api.device_management_dep_onboarding_setting import (  # noqa: E402
    device_management_create_dep_onboarding_setting as create_setting,
    device_management_delete_dep_onboarding_setting as delete_setting,
    device_management_dep_onboarding_setting_get_count as count_settings,
    device_management_dep_onboarding_setting_get_default_ios_enrollment_profile as get_default_ios,
    device_management_dep_onboarding_setting_get_encryption_public_key as get_public_key,
    device_management_dep_onboarding_setting_get_expiring_vpp_token_count as expiring_vpp_count,
    device_management_dep_onboarding_setting_share_for_school_data_sync_service as share_sds,
    device_management_get_dep_onboarding_setting as get_setting,
    device_management_list_dep_onboarding_setting as list_settings,
    device_management_update_dep_onboarding_setting as update_setting,
)
from graph_client.api.device_management_dep_onboarding_setting_enrollment_profile import (  # noqa: E402
    device_management_dep_onboarding_setting_create_enrollment_profile as create_profile,
    device_management_dep_onboarding_setting_delete_enrollment_profile as delete_profile,
    device_management_dep_onboarding_setting_enrollment_profile_export_mobile_config as export_mobile_config,
    device_management_dep_onboarding_setting_enrollment_profile_set_default_profile as set_default,
    device_management_dep_onboarding_setting_get_enrollment_profile as get_profile,
    device_management_dep_onboarding_setting_list_enrollment_profile as list_profiles,
    device_management_dep_onboarding_setting_list_enrollment_profiles_as_dep_mac_os_enrollment_profile as list_macos_profiles,
    device_management_dep_onboarding_setting_update_enrollment_profile as update_profile,
)
from graph_client.api.device_management_dep_onboarding_setting_imported_apple_device_identity import (  # noqa: E402
    device_management_dep_onboarding_setting_imported_apple_device_identity_import_apple_device_identity_list as import_devices,
    device_management_dep_onboarding_setting_list_imported_apple_device_identity as list_devices,
    device_management_dep_onboarding_setting_update_imported_apple_device_identity as update_device,
    device_management_dep_onboarding_setting_get_imported_apple_device_identity as get_device,
)
from graph_client.models import (  # noqa: E402
    DepIOSEnrollmentProfile,
    DepIOSEnrollmentProfileOdataType,
    DepMacOSEnrollmentProfile,
    DepMacOSEnrollmentProfileOdataType,
    DepOnboardingSetting,
    DepTokenType,
    EnrollmentProfile,
    EnrollmentProfileOdataType,
    ImportedAppleDeviceIdentity,
    ODataError,
    Platform,
    VppToken,
)
from graph_client.models.device_management_dep_onboarding_setting_imported_apple_device_identity_import_apple_device_identity_list_import_apple_device_identity_list_parameters import (  # noqa: E402
    DeviceManagementDepOnboardingSettingImportedAppleDeviceIdentityImportAppleDeviceIdentityListImportAppleDeviceIdentityListParameters as ImportParameters,
)

client = AuthenticatedClient(
    base_url=os.environ["GATEWAY_URL"], token=os.environ["GATEWAY_TOKEN"], timeout=30.0
)
results = {"passed": 0, "failed": 0}
state = {}


def check(name):
    """Runs the decorated function as one named check."""

    def run(fn):
        try:
            fn()
            results["passed"] += 1
            print(f"PASS {name}")
        except Exception:  # noqa: BLE001 - every failure is reported, then counted
            results["failed"] += 1
            print(f"FAIL {name}")
            traceback.print_exc()
        return fn

    return run


def expect(resp, status):
    assert resp.status_code == status, (
        f"expected {status}, got {resp.status_code}: {resp.content[:500]!r}"
    )
    return resp.parsed


@check("create a depOnboardingSetting")
def _():
    setting = expect(
        create_setting.sync_detailed(
            client=client,
            body=DepOnboardingSetting(token_name="SDK token", data_sharing_consent_granted=True),
        ),
        201,
    )
    assert isinstance(setting, DepOnboardingSetting)
    assert setting.token_name == "SDK token"
    assert setting.token_type == DepTokenType.NONE
    assert isinstance(setting.last_modified_date_time, datetime.datetime)
    state["setting"] = setting.id


@check("list, count and get depOnboardingSettings")
def _():
    page = expect(list_settings.sync_detailed(client=client, count=True), 200)
    assert [s.id for s in page.value] == [state["setting"]]
    assert page.odata_count == 1
    count = count_settings.sync_detailed(client=client)
    assert count.status_code == 200 and count.content == b"1", count.content
    one = expect(get_setting.sync_detailed(state["setting"], client=client), 200)
    assert one.data_sharing_consent_granted is True


@check("patch a depOnboardingSetting")
def _():
    resp = update_setting.sync_detailed(
        state["setting"], client=client, body=DepOnboardingSetting(token_name="Renamed")
    )
    assert resp.status_code == 204, resp.content
    one = expect(get_setting.sync_detailed(state["setting"], client=client), 200)
    assert one.token_name == "Renamed"


@check("create profiles of two derived types and an Apple Configurator profile")
def _():
    ios = expect(
        create_profile.sync_detailed(
            state["setting"],
            client=client,
            body=DepIOSEnrollmentProfile(
                odata_type=DepIOSEnrollmentProfileOdataType.VALUE_0,
                display_name="iPhones",
                requires_user_authentication=False,
                enabled_skip_keys=["Siri"],
            ),
        ),
        201,
    )
    assert isinstance(ios, DepIOSEnrollmentProfile), type(ios)
    assert ios.display_name == "iPhones" and ios.is_default is False
    mac = expect(
        create_profile.sync_detailed(
            state["setting"],
            client=client,
            body=DepMacOSEnrollmentProfile(
                odata_type=DepMacOSEnrollmentProfileOdataType.VALUE_0,
                display_name="Macs",
                file_vault_disabled=True,
            ),
        ),
        201,
    )
    assert isinstance(mac, DepMacOSEnrollmentProfile), type(mac)
    assert mac.file_vault_disabled is True
    configurator = expect(
        create_profile.sync_detailed(
            state["setting"],
            client=client,
            body=EnrollmentProfile(
                odata_type=EnrollmentProfileOdataType.VALUE_0,
                display_name="Configurator",
                requires_user_authentication=False,
            ),
        ),
        201,
    )
    assert isinstance(configurator, EnrollmentProfile), type(configurator)
    state.update(ios=ios.id, mac=mac.id, configurator=configurator.id)


@check("list profiles polymorphically and through a type cast")
def _():
    page = expect(list_profiles.sync_detailed(state["setting"], client=client), 200)
    kinds = sorted(type(p).__name__ for p in page.value)
    assert kinds == ["DepIOSEnrollmentProfile", "DepMacOSEnrollmentProfile", "EnrollmentProfile"], kinds
    macs = expect(list_macos_profiles.sync_detailed(state["setting"], client=client), 200)
    assert [p.id for p in macs.value] == [state["mac"]]


@check("patch and get a derived profile")
def _():
    resp = update_profile.sync_detailed(
        state["setting"],
        state["mac"],
        client=client,
        body=DepMacOSEnrollmentProfile(
            odata_type=DepMacOSEnrollmentProfileOdataType.VALUE_0, description="Office Macs"
        ),
    )
    assert resp.status_code == 204, resp.content
    mac = expect(get_profile.sync_detailed(state["setting"], state["mac"], client=client), 200)
    assert isinstance(mac, DepMacOSEnrollmentProfile) and mac.description == "Office Macs"


@check("action setDefaultProfile, then the defaultIosEnrollmentProfile navigation")
def _():
    none = get_default_ios.sync_detailed(state["setting"], client=client)
    assert none.status_code == 204, none.content
    resp = set_default.sync_detailed(state["setting"], state["ios"], client=client)
    assert resp.status_code == 204, resp.content
    default = expect(get_default_ios.sync_detailed(state["setting"], client=client), 200)
    assert isinstance(default, DepIOSEnrollmentProfile) and default.id == state["ios"]
    assert default.is_default is True


@check("function exportMobileConfig()")
def _():
    result = expect(
        export_mobile_config.sync_detailed(state["setting"], state["configurator"], client=client),
        200,
    )
    config = base64.b64decode(result.value)
    assert b"<plist" in config and b"Profile Service" in config, config[:200]


@check("function getEncryptionPublicKey() and action shareForSchoolDataSyncService")
def _():
    key = expect(get_public_key.sync_detailed(state["setting"], client=client), 200)
    assert key.value.startswith("-----BEGIN CERTIFICATE-----"), key.value[:40]
    resp = share_sds.sync_detailed(state["setting"], client=client)
    assert resp.status_code == 204, resp.content
    one = expect(get_setting.sync_detailed(state["setting"], client=client), 200)
    assert one.share_token_with_school_data_sync_service is True


@check("action importAppleDeviceIdentityList, patch and get a device")
def _():
    devices = [
        ImportedAppleDeviceIdentity(serial_number=f"SDKSERIAL{i:03d}", platform=Platform.IOS)
        for i in range(5)
    ]
    result = expect(
        import_devices.sync_detailed(
            state["setting"],
            client=client,
            body=ImportParameters(
                imported_apple_device_identities=devices, overwrite_imported_device_identities=False
            ),
        ),
        200,
    )
    assert [r.status for r in result.value] == [True] * 5
    assert sorted(r.serial_number for r in result.value) == [f"SDKSERIAL{i:03d}" for i in range(5)]
    first = result.value[0].id
    resp = update_device.sync_detailed(
        state["setting"], first, client=client,
        body=ImportedAppleDeviceIdentity(description="front desk"),
    )
    assert resp.status_code == 204, resp.content
    one = expect(get_device.sync_detailed(state["setting"], first, client=client), 200)
    assert one.description == "front desk"


@check("paging: $top and @odata.nextLink with its $skiptoken")
def _():
    seen = []
    page = expect(list_devices.sync_detailed(state["setting"], client=client, top=2), 200)
    pages = 1
    while True:
        seen.extend(d.serial_number for d in page.value)
        link = page.odata_next_link
        if not link:
            break
        query = parse_qs(urlsplit(link).query)
        assert "$skiptoken" in query, link
        page = expect(
            list_devices.sync_detailed(
                state["setting"],
                client=client,
                top=int(query["$top"][0]),
                skiptoken=query["$skiptoken"][0],
            ),
            200,
        )
        pages += 1
    assert pages == 3, pages
    assert sorted(seen) == [f"SDKSERIAL{i:03d}" for i in range(5)], seen


@check("$search and $filter on devices")
def _():
    found = expect(list_devices.sync_detailed(state["setting"], client=client, search="SERIAL003"), 200)
    assert [d.serial_number for d in found.value] == ["SDKSERIAL003"]
    filtered = expect(
        list_devices.sync_detailed(
            state["setting"], client=client, filter_="startswith(serialNumber,'SDKSERIAL00')"
        ),
        200,
    )
    assert len(filtered.value) == 5


@check("vppTokens and the getExpiringVppTokenCount function")
def _():
    expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30))
    file = {"token": "sdk-secret", "expDate": expires.strftime("%Y-%m-%dT%H:%M:%S+0000"), "orgName": "SDK School"}
    content = base64.b64encode(json.dumps(file).encode()).decode()
    token = expect(
        create_vpp_token.sync_detailed(
            client=client, body=VppToken(token=content, display_name="SDK VPP")
        ),
        201,
    )
    assert isinstance(token, VppToken) and token.organization_name == "SDK School"
    assert token.token is None
    listed = expect(list_vpp_tokens.sync_detailed(client=client), 200)
    assert [t.id for t in listed.value] == [token.id]
    before = (expires + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    count = expect(expiring_vpp_count.sync_detailed(before, client=client), 200)
    assert count.value == 1, count.value


@check("errors come back as ODataError with Graph's codes")
def _():
    missing = str(uuid.uuid4())
    resp = get_setting.sync_detailed(missing, client=client)
    assert resp.status_code == 404, resp.content
    assert isinstance(resp.parsed, ODataError), type(resp.parsed)
    assert resp.parsed.error.code == "ResourceNotFound"
    assert missing in resp.parsed.error.message
    assert resp.parsed.error.inner_error.request_id
    wrong = update_profile.sync_detailed(
        state["setting"],
        state["mac"],
        client=client,
        body=DepIOSEnrollmentProfile(odata_type=DepIOSEnrollmentProfileOdataType.VALUE_0),
    )
    assert wrong.status_code == 400 and isinstance(wrong.parsed, ODataError), wrong.content
    assert wrong.parsed.error.code == "BadRequest"


@check("delete a profile and the setting")
def _():
    resp = delete_profile.sync_detailed(state["setting"], state["configurator"], client=client)
    assert resp.status_code == 204, resp.content
    gone = get_profile.sync_detailed(state["setting"], state["configurator"], client=client)
    assert gone.status_code == 404, gone.content
    resp = delete_setting.sync_detailed(state["setting"], client=client)
    assert resp.status_code == 204, resp.content
    page = expect(list_settings.sync_detailed(client=client), 200)
    assert page.value == []


print(f"{results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] or not results["passed"] else 0)
