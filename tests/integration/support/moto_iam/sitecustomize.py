"""moto enforcing IAM, made to check and refuse as AWS does where a client
other than botocore (the operator's AWS SDK for Rust) sees the difference.
Python imports this at start when moto runs with this directory on
PYTHONPATH (tests/support/moto.rs, start_enforcing_iam_after).

1. Signatures. moto checks a request's SigV4 signature against its form
   parameters re-encoded by Python, because werkzeug has consumed the body
   by then; AWS checks the bytes received. The SDK for Rust encodes a space
   as %20 where Python writes +, so a role description with a space was
   refused as SignatureDoesNotMatch. Here the body is kept as received.

2. Refusals. moto words a refused authorization as
   <ErrorResponse><Errors><Error>, for every protocol. IAM and STS answer
   <ErrorResponse><Error>, Organizations (JSON) {"__type": ...}: the only
   forms the SDK reads. Unread, a refusal reached the operator with no code
   and no message. Here refusals take AWS's form for the request's protocol.
"""

from moto.core import authorization, request
from moto.core.exceptions import _RESTError

_request_init = request.Request.__init__


def _keep_body(self, *args, **kwargs):
    _request_init(self, *args, **kwargs)
    # Cached, the bytes stay readable as `data` after werkzeug parses the form from them.
    self.get_data(cache=True, parse_form_data=False)


request.Request.__init__ = _keep_body

_authorize = authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action


def _refuse_as_aws(self, *args, **kwargs):
    try:
        return _authorize(self, *args, **kwargs)
    except _RESTError as refusal:
        # JSON protocols name their operation in X-Amz-Target; Query ones do not.
        if "X-Amz-Target" in self.headers:
            raise refusal.to_json() from None
        refusal.description = refusal.description.replace(
            "<Errors><Error>", "<Error>"
        ).replace("</Error></Errors>", "</Error>")
        raise


authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action = (
    _refuse_as_aws
)
