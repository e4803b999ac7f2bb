"""Use cases. Each call is one transaction through the unit of work, committed before it returns."""
from core.services.batches import BatchService
from core.services.intake import FINISH_FILES, FormErrors, IntakeService
from core.services.people import CONSENT_VERSION, PeopleService
from core.services.privacy import PrivacyService, mask_email, mask_phone
from core.services.review import ReviewService
from core.services.views import ApplicationSummary, BatchView, DocumentView, DraftView, PersonView, SummaryLine

__all__ = [
    "CONSENT_VERSION",
    "FINISH_FILES",
    "ApplicationSummary",
    "BatchService",
    "BatchView",
    "DocumentView",
    "DraftView",
    "FormErrors",
    "IntakeService",
    "PeopleService",
    "PersonView",
    "PrivacyService",
    "ReviewService",
    "SummaryLine",
    "mask_email",
    "mask_phone",
]
