r"""Math answer verification: is a model's final answer equal to the gold answer?

Answers are read by a safe parser (:func:`parse_math`, never ``eval`` or ``sympify``) into
sympy objects and compared exactly where they are exact, with a relative tolerance where
one side is a decimal, and symbolically in sandboxed worker processes with hard deadlines.

>>> verify(r"so the answer is \boxed{1,000}", "1000").correct
True
>>> equivalent(r"\{3, 1\}", "1, 3"), equivalent(r"\boxed{3 \text{ or } 4}", "3")
(True, False)
"""

from rewardkit.verify.answers import Outcome
from rewardkit.verify.api import Verdict, check, equivalent, verify, verify_batch
from rewardkit.verify.errors import MathParseError
from rewardkit.verify.model_verifier import ModelVerifier, model_verifier_from
from rewardkit.verify.options import VerifyOptions
from rewardkit.verify.parser import parse_math

__all__ = [
    "MathParseError",
    "ModelVerifier",
    "Outcome",
    "Verdict",
    "VerifyOptions",
    "check",
    "equivalent",
    "model_verifier_from",
    "parse_math",
    "verify",
    "verify_batch",
]
