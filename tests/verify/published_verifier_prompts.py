# ruff: noqa: E501, W291  (the published prompts, byte for byte)
"""The verifier prompts exactly as their authors publish them, in their own placeholder
syntax, to check rewardkit's formats against (copied from the sources named below)."""

# uw-nsl/TinyV, verl/verl/utils/reward_score/tinyv_config.json, "zhangchenxu/TinyV-1.5B"
# (filled with str.replace of {{QUESTION}}, {{GROUND_TRUTH_ANSWER}}, {{MODEL_ANSWER}})
TINYV = 'You are an AI tasked with identifying false negatives in answer verification. A false negative occurs when a model\'s answer is essentially correct but is marked as incorrect due to minor discrepancies or formatting issues. Your job is to analyze the given question, ground truth answer, and model answer to determine if the model\'s answer is actually correct despite appearing different from the ground truth.\n\n<question>{{QUESTION}}</question>\n\n<ground_truth_answer>{{GROUND_TRUTH_ANSWER}}</ground_truth_answer>\n\n<model_answer>{{MODEL_ANSWER}}</model_answer>\n\nReturn "True" if the model\'s answer is correct, otherwise return "False".'


def tinyv(question: str, gold: str, answer: str) -> str:
    return (
        TINYV.replace("{{QUESTION}}", question)
        .replace("{{GROUND_TRUTH_ANSWER}}", gold)
        .replace("{{MODEL_ANSWER}}", answer)
    )


# IAAR-Shanghai/xVerify prompt (as used with xVerify-0.5B-I etc.; f-string fields)
XVERIFY = '''You are a diligent and precise assistant tasked with evaluating the correctness of responses. You will receive a question, an output sentence, and the correct answer. Your task is to determine if the output sentence accurately answers the question based on the provided correct answer. Respond with either [Correct] or [Incorrect].
-
Special considerations:

1. **Multiple Answers**: If the output contains multiple answers, evaluate whether later answers modify or correct earlier ones. In such cases, compare the final answer with the correct answer. If the final answer is unclear or incorrect, respond with [Incorrect].

2. **Mathematical Problems**: If the formats differ but the answers are mathematically equivalent, respond with [Correct].

3. **Explicit Options**: If the question provides explicit candidate answers, the output will be considered correct if it clearly indicates the correct option's code or the correct option's content.

4. **No Explicit Options**: If the question does not provide explicit options, the output must align with the correct answer in content and meaning to be considered [Correct].
-

Question: """{question}"""

Output sentence: """{output}"""

Correct answer: {answer}

Judgement:
'''


def xverify(question: str, gold: str, answer: str) -> str:
    return XVERIFY.format(question=question, output=answer, answer=gold)


# open-compass/CompassVerifier, src/prompts.py, CV_PROMPT (filled with str.format)
CV_PROMPT = """
Please as a grading expert, judge whether the final answers given by the candidates below are consistent with the standard answers, that is, whether the candidates answered correctly. 
Here are some evaluation criteria:
1. Please refer to the given standard answer. You don't need to re-generate the answer to the question because the standard answer has been given. You only need to judge whether the candidate's answer is consistent with the standard answer according to the form of the question. THE STANDARD ANSWER IS ALWAYS CORRECT AND THE QUESTION IS PERFECTLY VALID. NEVER QUESTION THEM.
2. ONLY compare the FINAL ANSWER - COMPLETELY IGNORE any potential errors in the REASONING PROCESSES.
3. Some answers may be expressed in different ways, such as some answers may be a mathematical expression, some answers may be a textual description, as long as the meaning expressed is the same. Before making a judgment, please understand the question and the standard answer first, and then judge whether the candidate's answer is correct.
4. Some answers may consist of multiple items, such as multiple-choice questions, multiple-select questions, fill-in-the-blank questions, etc. Regardless of the question type, the final answer will be considered correct as long as it matches the standard answer, regardless of whether the reasoning process is correct. For multiple-select questions and multi-blank fill-in-the-blank questions, all corresponding options or blanks must be answered correctly and match the standard answer exactly to be deemed correct.
5. If the prediction is given with \\boxed{{}}, please ignore the \\boxed{{}} and only judge whether the candidate's answer is consistent with the standard answer.
6. If the candidate's answer is invalid (e.g., incomplete (cut off mid-response), lots of unnormal repetitive content, or irrelevant to the question, saying it can't answer the question because some irresistible factors, like ethical issues, no enough information, etc.), select option C (INVALID).Please judge whether the following answers are consistent with the standard answer based on the above criteria. Grade the predicted answer of this new question as one of:
A: CORRECT 
B: INCORRECT
C: INVALID
Just return the letters "A", "B", or "C", with no text around it.
Here is your task. Simply reply with either CORRECT, INCORRECT, or INVALID. Don't apologize or correct yourself if there was a mistake; we are just trying to grade the answer.
<Original Question Begin>:
{question}
<Original Question End>
<Standard Answer Begin>:
{gold_answer}
<Standard Answer End>
<Candidate's Answer Begin>: 
{llm_response}
<Candidate's Answer End>
Judging the correctness of the candidate's answer:
"""


def compassverifier(question: str, gold: str, answer: str) -> str:
    return CV_PROMPT.format(question=question, gold_answer=gold, llm_response=answer)


# TIGER-Lab/general-verifier model card (an f-string; sent as the one user message)
def general_verifier(question: str, gold: str, answer: str) -> str:
    return (
        f"User: ### Question: {question}\n\n"
        f"### Ground Truth Answer: {gold}\n\n"
        f"### Student Answer: {answer}\n\n"
        "For the above question, please verify if the student's answer is equivalent to the ground truth answer.\n"
        "Do not solve the question by yourself; just check if the student's answer is equivalent to the ground truth answer.\n"
        'If the student\'s answer is correct, output "Final Decision: Yes". If the student\'s answer is incorrect, output "Final Decision: No". Assistant:'
    )


PUBLISHED = {
    "tinyv": tinyv,
    "xverify": xverify,
    "compassverifier": compassverifier,
    "general_verifier": general_verifier,
}
