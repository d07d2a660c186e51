"""Which control each report section evidences (data, not code), shown once as the
report's control-mapping appendix. SOC 2 = 2017 Trust Services Criteria (2022 points of
focus); ISO/IEC 27001:2022 Annex A; ISO/IEC 27701:2019."""
from __future__ import annotations

FRAMEWORKS = {"soc2": "SOC 2", "iso27001": "ISO 27001", "iso27701": "ISO 27701"}

# item -> (the report section that evidences it, controls per framework)
CONTROLS: dict[str, tuple[str, dict[str, list[str]]]] = {
    "vendors_in_use": ("AI sub-processors in use", {
        "soc2": ["CC9.2"], "iso27001": ["A.5.19", "A.5.23"], "iso27701": ["8.5.6", "8.5.7"]}),
    "new_vendors": ("New this week", {
        "soc2": ["CC9.2", "CC3.4"], "iso27001": ["A.5.19", "A.5.22"], "iso27701": ["8.5.8"]}),
    "people_and_devices": ("Users, devices and teams per vendor", {
        "soc2": ["CC6.1"], "iso27001": ["A.5.9"], "iso27701": ["6.5.1.1"]}),
    "data_classes_sent": ("Data classes that reached each vendor", {
        "soc2": ["CC6.7", "C1.1"], "iso27001": ["A.5.12", "A.5.14", "A.8.12"], "iso27701": ["6.10.2.1", "7.5.1"]}),
    "register_status": ("Register status", {
        "soc2": ["CC9.2"], "iso27001": ["A.5.20", "A.5.21"], "iso27701": ["7.2.6", "8.5.7"]}),
    "retention": ("Retention against company policy", {
        "soc2": ["C1.2"], "iso27001": ["A.5.33", "A.8.10"], "iso27701": ["7.4.7", "7.4.8"]}),
    "open_findings": ("Open findings", {
        "soc2": ["CC7.3", "CC7.4"], "iso27001": ["A.5.25", "A.5.26"], "iso27701": ["6.13.1.5"]}),
    "coverage": ("Agent coverage", {
        "soc2": ["CC7.2"], "iso27001": ["A.8.16"], "iso27701": ["6.9.4.1"]}),
    # "SSO every AI tool": accounts the company can provision and deprovision, on a vendor under contract
    "sso_coverage": ("SSO coverage", {
        "soc2": ["CC6.1", "CC6.2"], "iso27001": ["A.5.16", "A.5.18", "A.5.19"], "iso27701": ["6.6.2.1"]}),
    "data_flow_map": ("Data-flow map", {
        "soc2": ["CC2.1", "CC6.7"], "iso27001": ["A.5.14", "A.5.34"], "iso27701": ["7.2.8", "7.5.1"]}),
}


def tags(item: str) -> list[str]:
    """Flat labels for one item: ["SOC 2 CC9.2", "ISO 27001 A.5.19", ...]."""
    return [f"{FRAMEWORKS[framework]} {control}" for framework, controls in CONTROLS[item][1].items()
            for control in controls]


def appendix() -> list[dict[str, object]]:
    """One row per report section: the controls it evidences, per framework."""
    return [{"item": item, "section": section, **{framework: list(controls.get(framework, []))
                                                  for framework in FRAMEWORKS}}
            for item, (section, controls) in CONTROLS.items()]
