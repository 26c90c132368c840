"""Form specifications: pydantic models, the loader and the compiled form."""

from cos_xl.spec.form import Form, Label, MessagePart, RuleInstance, Value
from cos_xl.spec.loader import (
    DEFAULT_FORM, available_forms, load_form, load_form_file, templates_dir,
)
from cos_xl.spec.models import FormSpec, Indicator, Input, excel_defined_name

__all__ = [
    "DEFAULT_FORM", "Form", "FormSpec", "Indicator", "Input", "Label", "MessagePart",
    "RuleInstance", "Value", "available_forms", "excel_defined_name", "load_form",
    "load_form_file", "templates_dir",
]
