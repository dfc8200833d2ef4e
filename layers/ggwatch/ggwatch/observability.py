"""One logger and one metrics object for the whole package (powertools reads POWERTOOLS_* settings).

Tracing is left to Lambda's active tracing: the powertools Tracer would add the X-Ray SDK to the layer
and its boto patching to every cold start.
"""

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="ggwatch")
metrics = Metrics(namespace="ggwatch", service="ggwatch")
