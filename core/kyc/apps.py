from django.apps import AppConfig


class KycConfig(AppConfig):
    """Identity verification: a borrower's request for a higher KYC tier, its encrypted
    documents, the operators' decision, and the documents' deletion after retention."""

    name = "core.kyc"
    label = "kyc"
    verbose_name = "Identity verification (KYC)"
