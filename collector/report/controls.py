"""Which control each report item evidences (data, not code). SOC 2 = 2017 Trust Services
Criteria (2022 points of focus); ISO/IEC 27001:2022 Annex A; ISO/IEC 27701:2019."""
from __future__ import annotations

CONTROLS: dict[str, dict[str, list[str]]] = {
    "vendors_in_use": {
        "soc2": ["CC9.2"], "iso27001": ["A.5.19", "A.5.23"], "iso27701": ["8.5.6", "8.5.7"]},
    "new_vendors": {
        "soc2": ["CC9.2", "CC3.4"], "iso27001": ["A.5.19", "A.5.22"], "iso27701": ["8.5.8"]},
    "people_and_devices": {
        "soc2": ["CC6.1"], "iso27001": ["A.5.9"], "iso27701": ["6.5.1.1"]},
    "data_classes_sent": {
        "soc2": ["CC6.7", "C1.1"], "iso27001": ["A.5.12", "A.5.14", "A.8.12"], "iso27701": ["6.10.2.1", "7.5.1"]},
    "register_status": {
        "soc2": ["CC9.2"], "iso27001": ["A.5.20", "A.5.21"], "iso27701": ["7.2.6", "8.5.7"]},
    "retention": {
        "soc2": ["C1.2"], "iso27001": ["A.5.33", "A.8.10"], "iso27701": ["7.4.7", "7.4.8"]},
    "open_findings": {
        "soc2": ["CC7.3", "CC7.4"], "iso27001": ["A.5.25", "A.5.26"], "iso27701": ["6.13.1.5"]},
    "data_flow_map": {
        "soc2": ["CC2.1", "CC6.7"], "iso27001": ["A.5.14", "A.5.34"], "iso27701": ["7.2.8", "7.5.1"]},
}


def tags(item: str) -> list[str]:
    """Flat labels for one item: ["SOC 2 CC9.2", "ISO 27001 A.5.19", ...]."""
    names = {"soc2": "SOC 2", "iso27001": "ISO 27001", "iso27701": "ISO 27701"}
    return [f"{names[framework]} {control}" for framework, controls in CONTROLS[item].items() for control in controls]
