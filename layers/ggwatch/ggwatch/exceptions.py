"""The package's own errors: adapters translate SDK and HTTP failures into these, in one place."""


class GgwatchError(Exception):
    """Base class for every error ggwatch raises on purpose."""


class ConfigurationError(GgwatchError):
    """A required setting is missing or invalid; the message names the setting, never its value."""


class InvalidEventError(GgwatchError):
    """A Lambda event does not have the shape the handler accepts; the message says what is wrong."""


class DeploymentNotFoundError(GgwatchError):
    """The deployment source does not know this ID (Greengrass answers BadRequestException)."""


class SourceThrottledError(GgwatchError):
    """The deployment source kept throttling after the SDK's retries: try again on a later run."""


class SourceUnavailableError(GgwatchError):
    """The deployment source failed (5xx, timeout, unparseable answer): try again on a later run."""


class DeadlineReachedError(GgwatchError):
    """The run has no time left for a call a source's answer can do without (see ports.Deadline): the
    deployment is deferred, and the next run polls it first."""


class ConflictError(GgwatchError):
    """A conditional write lost: another poller run changed the item first."""


class CorruptItemError(GgwatchError):
    """A stored item cannot be read back as a tracked deployment."""


class PublishError(GgwatchError):
    """The notification topic did not accept a message."""


class DeliveryError(GgwatchError):
    """A chat channel did not accept a message."""


class UnknownSchemaError(DeliveryError):
    """A notification of a schema version this notifier does not know: never posted, and failed so
    that it ends in the DLQ, where an operator sees it (a forged or a newer producer's message)."""


class RepositoryError(GgwatchError):
    """DynamoDB failed for a reason other than a lost race."""
