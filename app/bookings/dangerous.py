"""What a cargo line declares about its dangerous goods: UN number, class, packing group, and for rail the
special provisions, a lithium battery's condition and the documents that go with it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field, field_validator

from app.fields import DgClass, RequestBody, ShortText, UnNumber


class PackingGroup(StrEnum):
    I = "I"  # noqa: E741
    II = "II"
    III = "III"


class DgDocumentKind(StrEnum):
    """Documents a rail service may require for dangerous goods (SMGS Annex 2, lithium batteries)."""

    UN38_3_TEST_SUMMARY = "UN38_3_TEST_SUMMARY"
    MSDS = "MSDS"


class BatteryCondition(StrEnum):
    NEW = "NEW"
    USED = "USED"
    DAMAGED = "DAMAGED"
    RECYCLED = "RECYCLED"


class DgDocument(RequestBody):
    kind: DgDocumentKind
    reference: ShortText = Field(description="The document's number or file name, as the operator will ask for it")


class DangerousGoods(RequestBody):
    model_config = ConfigDict(populate_by_name=True)

    un_number: UnNumber
    dg_class: DgClass = Field(alias="class")
    packing_group: PackingGroup | None = None
    special_provisions: list[int] = Field(
        default_factory=list, max_length=10,
        description="Special provisions the goods ship under; 188 (small lithium cells in equipment) means the "
                    "line is not dangerous goods",
    )
    battery_condition: BatteryCondition | None = Field(
        default=None, description="Lithium batteries: DAMAGED or RECYCLED ones are refused by rail",
    )
    documents: list[DgDocument] = Field(
        default_factory=list, max_length=10,
        description="Documents declared with the goods (UN38.3 test summary, MSDS), which the operator sees",
    )

    @field_validator("special_provisions")
    @classmethod
    def _provisions(cls, values: list[int]) -> list[int]:
        if any(v < 1 or v > 999 for v in values):
            raise ValueError("special provisions are numbers from 1 to 999")
        return values
