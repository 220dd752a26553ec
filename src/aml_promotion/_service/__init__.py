"""`promote()`, by stages: one module per stage of a promotion.

`_promote` calls the stages top to bottom: `_candidate` (what is offered), `_baseline` (what it
is compared with), `_register` (the request, the registration, a version already there),
`_champion` (the champion tag or alias), `_result` (`PromotionResult`). `_version` is the
candidate that is a registered version, and its copy into a target registry (promotion across
environments).
"""

from aml_promotion._service._candidate import content_digest
from aml_promotion._service._promote import promote
from aml_promotion._service._register import model_name
from aml_promotion._service._result import PromotionResult

__all__ = ["PromotionResult", "content_digest", "model_name", "promote"]
