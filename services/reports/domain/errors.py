"""What the reports domain refuses."""


class DomainError(Exception):
    """A request the reports rules refuse; ``detail`` says why, for the person who asked."""

    # Read by the shared HTTP entrypoint, which answers with this status and error code.
    http_status = 422
    error_code = "invalid_request"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class InvalidSchedule(DomainError):
    pass


class InvalidPeriod(DomainError):
    pass


class UnknownLanguage(DomainError):
    pass
