r"""A GRPOTrainer whose objective is chosen by name: KL estimator and placement, advantages, loss.

:class:`ObjectiveGRPOTrainer` is TRL's ``GRPOTrainer`` with the loss and the advantages computed
by :mod:`rewardkit.objectives`. With default settings it computes exactly TRL's loss (its
``loss_type`` picks the same policy loss and aggregation); the config then lets you choose:

- ``kl_estimator`` (``k1``, ``k2``, ``k3``, ``abs``, ``k1+``, ``k3+``) and ``kl_placement``:
  ``"loss"`` (TRL's place) or ``"reward"`` (``-beta * KL`` added to the rewards before the
  advantages, per token or summed per sequence: ``kl_reward_level``);
- ``advantage_estimator`` (``grpo``, ``dr_grpo``, ``rloo``, ``reinforce_pp``,
  ``reinforce_pp_baseline``, ``prime``, or ``gae`` with a learned critic);
- ``policy_loss`` (``ppo_clip``, ``dual_clip``, ``dapo``, ``gspo``, ``cispo``) and
  ``loss_aggregation`` (``token-mean``, ``seq-mean-token-mean``, ``seq-mean-token-sum``,
  ``seq-mean-token-sum-norm``);
- token-level rewards: a reward function with a ``token_rewards(prompts=None, completions=...,
  completion_ids=..., **columns) -> list[list[float]]`` method (rewardkit's process rewards have
  one) contributes those per-token rewards instead of its scalar, and the advantages become
  token-level (``prime`` by default);
- ``dynamic_sampling`` (DAPO): groups whose rewards all agree are replaced by groups of other
  prompts, with at most ``dynamic_sampling_max_rounds`` extra generation rounds. Each extra
  round is a full generation batch, so a step can take up to ``1 + max_rounds`` times as
  long: the rounds are logged (a warning the first time, then at INFO level) and counted as
  ``dynamic_sampling/rounds`` and ``dynamic_sampling/generated_completions``.

>>> cfg = ObjectiveGRPOConfig(output_dir="/tmp/rk", use_cpu=True, report_to="none")
>>> cfg.policy_loss, cfg.loss_aggregation, cfg.kl_estimator, cfg.kl_placement
('ppo_clip', 'token-mean', 'k3', 'loss')
>>> ObjectiveGRPOConfig(output_dir="/tmp/rk", use_cpu=True, kl_estimator="k9")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: kl_estimator: unknown KL estimator 'k9'; known: abs, full, k1, k1+, k2, k3, k3+, ...
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from trl import GRPOConfig, GRPOTrainer

from rewardkit.objectives.advantages import compute_advantages, gae, pad_token_rewards, whiten
from rewardkit.objectives.aggregation import aggregate_loss
from rewardkit.objectives.groups import group_rows, informative_groups
from rewardkit.objectives.kl import kl_in_reward, kl_penalty, last_token_onehot
from rewardkit.objectives.losses import ClipConfig
from rewardkit.objectives.registry import (
    ADVANTAGE_ESTIMATORS,
    KL_ESTIMATORS,
    LOSS_AGGREGATIONS,
    POLICY_LOSSES,
)
from rewardkit.objectives.value import ValueHead, clipped_value_loss
from rewardkit.trl.device import has_accelerator

logger = logging.getLogger(__name__)

# TRL's loss_type -> (policy loss, aggregation) computing the same loss
TRL_LOSS_TYPES = {
    "dapo": ("ppo_clip", "token-mean"),
    "grpo": ("ppo_clip", "seq-mean-token-mean"),
    "dr_grpo": ("ppo_clip", "seq-mean-token-sum-norm"),
    "cispo": ("cispo", "token-mean"),
}
# TRL's scale_rewards -> advantage estimator computing the same advantages
TRL_SCALE_REWARDS = {"group": "grpo", "none": "dr_grpo", "batch": "grpo_batch_std"}


def _check_name(registry, value: str, option: str, extra: tuple[str, ...] = ()) -> None:
    if value in extra:
        return
    try:
        registry.get(value)
    except KeyError as error:
        raise ValueError(f"{option}: {error.args[0]}") from None


@dataclass
class ObjectiveGRPOConfig(GRPOConfig):
    """``GRPOConfig`` plus the objective's choices by name (loads with ``TrlParser``).

    Options left at ``None`` follow TRL's own settings (``loss_type``, ``scale_rewards``,
    ``importance_sampling_level``), so the default objective is TRL's. On a machine without
    a GPU it sets ``use_cpu=True`` and ``bf16=False`` (with one log line) where TRL's
    ``GRPOConfig`` would refuse its own ``bf16`` default.
    """

    kl_estimator: str = field(
        default="k3",
        metadata={
            "help": "KL(pi || pi_ref) estimator: k1, k2, k3 (TRL's), abs, k1+, k3+ "
            "(straight-through)."
        },
    )
    kl_placement: str = field(
        default="loss",
        metadata={
            "help": "'loss': beta * KL added to the per-token loss (TRL); 'reward': subtracted "
            "from the rewards."
        },
    )
    kl_reward_level: str = field(
        default="token",
        metadata={
            "help": "With kl_placement='reward': 'token' (per token) or 'sequence' (summed, on "
            "the last token)."
        },
    )
    kl_clamp: float | None = field(
        default=None, metadata={"help": "Clamp the per-token KL to [-c, c]."}
    )
    advantage_estimator: str | None = field(
        default=None,
        metadata={
            "help": "grpo, grpo_batch_std, dr_grpo, rloo, reinforce_pp, reinforce_pp_baseline, "
            "prime, or gae "
            "(critic). None: from scale_rewards, or 'prime' when a reward gives token rewards."
        },
    )
    policy_loss: str | None = field(
        default=None,
        metadata={
            "help": "ppo_clip, dual_clip, dapo, gspo, cispo. None: from loss_type and "
            "importance_sampling_level. "
            "cispo caps the IS weight at epsilon_high (as TRL; ScaleRL recommends 5.0)."
        },
    )
    loss_aggregation: str | None = field(
        default=None,
        metadata={
            "help": "token-mean, seq-mean-token-mean, seq-mean-token-sum, seq-mean-token-sum-norm. "
            "None: from loss_type."
        },
    )
    use_token_rewards: bool = field(
        default=True,
        metadata={
            "help": "Reward functions with a token_rewards method give per-token rewards "
            "instead of their "
            "scalar (token-level advantages). False: use every function's scalar, as TRL does."
        },
    )
    gamma: float = field(default=1.0, metadata={"help": "Discount of returns-to-go and GAE."})
    gae_lambda: float = field(
        default=0.95, metadata={"help": "GAE lambda (advantage_estimator='gae')."}
    )
    value_head_inner_size: int = field(
        default=0, metadata={"help": "Critic MLP width; 0: a linear head."}
    )
    value_learning_rate: float = field(
        default=1e-3, metadata={"help": "Learning rate of the critic (AdamW)."}
    )
    value_loss_coef: float = field(default=0.5, metadata={"help": "Weight of the critic's loss."})
    value_clip: float | None = field(
        default=0.2, metadata={"help": "PPO value clipping range; None: off."}
    )
    dynamic_sampling: bool = field(
        default=False,
        metadata={
            "help": "DAPO dynamic sampling: replace groups whose rewards all agree by other "
            "prompts' groups."
        },
    )
    dynamic_sampling_max_rounds: int = field(
        default=3, metadata={"help": "At most this many extra generation rounds per batch."}
    )

    def __post_init__(self) -> None:
        if not self.use_cpu and not has_accelerator():  # TRL's bf16 default fails on a CPU
            logger.warning("no GPU found: training on the CPU (use_cpu=True, bf16=False)")
            self.use_cpu, self.bf16 = True, False
        super().__post_init__()
        if self.policy_loss is None or self.loss_aggregation is None:
            if self.loss_type not in TRL_LOSS_TYPES:
                raise ValueError(
                    f"loss_type={self.loss_type!r} has no rewardkit equivalent; set policy_loss "
                    "and "
                    f"loss_aggregation, or use a loss_type among {sorted(TRL_LOSS_TYPES)}"
                )
            loss, aggregation = TRL_LOSS_TYPES[self.loss_type]
            if loss == "ppo_clip" and self.importance_sampling_level == "sequence":
                loss = "gspo"
            self.policy_loss = self.policy_loss or loss
            self.loss_aggregation = self.loss_aggregation or aggregation
        _check_name(KL_ESTIMATORS, self.kl_estimator, "kl_estimator")
        if self.kl_estimator == "full":
            raise ValueError(
                "kl_estimator='full' needs the full-vocabulary logits of both models, which the "
                "trainer does not materialise (TRL's fused LM head returns per-token log-probs); "
                "use rewardkit.objectives.kl_penalty "
                "on logits in your own loop, or a per-token estimator here"
            )
        if self.advantage_estimator is not None:
            _check_name(
                ADVANTAGE_ESTIMATORS, self.advantage_estimator, "advantage_estimator", ("gae",)
            )
        _check_name(POLICY_LOSSES, self.policy_loss, "policy_loss")
        _check_name(LOSS_AGGREGATIONS, self.loss_aggregation, "loss_aggregation")
        if self.kl_placement not in ("loss", "reward"):
            raise ValueError(f"kl_placement must be 'loss' or 'reward', got {self.kl_placement!r}")
        if self.kl_reward_level not in ("token", "sequence"):
            raise ValueError(
                f"kl_reward_level must be 'token' or 'sequence', got {self.kl_reward_level!r}"
            )
        if self.multi_objective_aggregation != "sum_then_normalize":
            raise ValueError(
                "ObjectiveGRPOConfig supports multi_objective_aggregation='sum_then_normalize' only"
            )
        if self.use_adaptive_entropy:
            raise ValueError(
                "use_adaptive_entropy is not supported by ObjectiveGRPOTrainer; use entropy_coef"
            )
        if self.dynamic_sampling_max_rounds < 0:
            raise ValueError("dynamic_sampling_max_rounds must be >= 0")
        if not 0.0 <= self.gae_lambda <= 1.0 or not 0.0 <= self.gamma <= 1.0:
            raise ValueError("gamma and gae_lambda must lie in [0, 1]")


class ObjectiveGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` with advantages and loss from :mod:`rewardkit.objectives` (see module doc).

    Takes the same arguments as ``GRPOTrainer``; ``args`` must be an :class:`ObjectiveGRPOConfig`.
    With ``advantage_estimator="gae"`` it trains a :class:`~rewardkit.objectives.ValueHead` critic
    on the policy's (detached) last hidden states, with its own optimizer and PPO's clipped value
    loss, saved as ``value_head.pt`` beside the model (checkpoints also keep its optimizer, and
    resuming from one restores both).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        config = kwargs.get("args", args[2] if len(args) > 2 else None)
        if not isinstance(config, ObjectiveGRPOConfig):
            raise TypeError("ObjectiveGRPOTrainer needs args=ObjectiveGRPOConfig(...)")
        super().__init__(*args, **kwargs)
        self._clip_config = ClipConfig(
            clip_low=self.epsilon_low,
            clip_high=self.args.epsilon_high,  # None: the loss's default (DAPO 0.28, else epsilon)
            dual_clip=self.args.delta,
            ratio_max=self.epsilon_high,
        )
        self._policy_loss_fn = POLICY_LOSSES.get(self.args.policy_loss)
        self._kl_in_loss = self.beta != 0.0 and self.args.kl_placement == "loss"
        self._token_reward_funcs = [
            i
            for i, func in enumerate(self.reward_funcs)
            if self.args.use_token_rewards and callable(getattr(func, "token_rewards", None))
        ]
        # unset: TRL's own advantages (from scale_rewards), or PRIME-style ones for token rewards
        self.advantage_estimator = self.args.advantage_estimator or (
            "prime" if self._token_reward_funcs else TRL_SCALE_REWARDS[self.args.scale_rewards]
        )
        self._token_rewards: torch.Tensor | None = None
        self._rewards_per_func: torch.Tensor | None = None
        self._dynamic_batches = None
        if self.args.dynamic_sampling:
            if self.accelerator.num_processes > 1:
                raise ValueError("dynamic_sampling supports a single process for now")
            if isinstance(self.train_dataset, torch.utils.data.IterableDataset):
                raise ValueError(
                    "dynamic_sampling needs a map-style train_dataset (to draw more prompts)"
                )
        self.value_head: ValueHead | None = None
        self._hidden_states: list[torch.Tensor] | None = None
        if self.advantage_estimator == "gae":
            self._build_critic()

    # ------------------------------------------------------------------ critic

    def _build_critic(self) -> None:
        model = self.accelerator.unwrap_model(self.model)
        hidden_size = model.config.get_text_config().hidden_size
        self.value_head = ValueHead(hidden_size, self.args.value_head_inner_size).to(
            self.accelerator.device
        )
        self.value_optimizer = torch.optim.AdamW(
            self.value_head.parameters(), lr=self.args.value_learning_rate
        )
        model.get_decoder().register_forward_hook(self._capture_hidden_states)

    def _capture_hidden_states(self, module, inputs, output) -> None:
        if self._hidden_states is not None:
            hidden = output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0]
            # detached: the critic's loss does not train the policy's body
            self._hidden_states.append(hidden.detach())

    @contextlib.contextmanager
    def _capturing(self, active: bool):
        self._hidden_states = [] if active else None
        try:
            yield self
        finally:
            self._hidden_states = None

    def _values(self, logits_to_keep: int) -> torch.Tensor:
        """Critic values ``(B, T)`` of the states before each completion token (captured states)."""
        hidden = torch.cat(self._hidden_states, dim=0)
        return self.value_head(hidden[:, -logits_to_keep - 1 : -1])  # state s_t predicts token t

    def training_step(self, model, inputs, num_items_in_batch):
        output = super().training_step(model, inputs, num_items_in_batch)
        if (
            self.value_head is not None
            and self._step % self.current_gradient_accumulation_steps == 0
        ):
            self.value_optimizer.step()
            self.value_optimizer.zero_grad(set_to_none=True)
        return output

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        super().save_model(output_dir, _internal_call)
        if self.value_head is not None and self.accelerator.is_main_process:
            path = Path(output_dir or self.args.output_dir)
            path.mkdir(parents=True, exist_ok=True)
            torch.save(self.value_head.state_dict(), path / "value_head.pt")
            if _internal_call:  # a checkpoint: keep the critic's optimizer too, for resuming
                torch.save(self.value_optimizer.state_dict(), path / "value_optimizer.pt")

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model=None) -> None:
        super()._load_from_checkpoint(resume_from_checkpoint, model)
        path = Path(resume_from_checkpoint)
        if self.value_head is not None and (path / "value_head.pt").exists():
            device = self.accelerator.device
            self.value_head.load_state_dict(torch.load(path / "value_head.pt", map_location=device))
            if (path / "value_optimizer.pt").exists():
                state = torch.load(path / "value_optimizer.pt", map_location=device)
                self.value_optimizer.load_state_dict(state)

    # ------------------------------------------------------------------ rewards and advantages

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(
            inputs, prompts, completions, completion_ids_list
        )
        self._rewards_per_func = rewards_per_func
        self._token_rewards = None
        if self._token_reward_funcs:
            keys = [
                key for key in inputs[0] if key not in ("prompt", "completion", "completion_ids")
            ]
            columns = {key: [example[key] for example in inputs] for key in keys}
            length = max((len(ids) for ids in completion_ids_list), default=0)
            total = torch.zeros(len(prompts), length, device=self.accelerator.device)
            for i in self._token_reward_funcs:
                rows = self.reward_funcs[i].token_rewards(
                    prompts=prompts,
                    completions=completions,
                    completion_ids=completion_ids_list,
                    **columns,
                )
                name = self.reward_func_names[i]
                if len(rows) != len(prompts):
                    raise ValueError(
                        f"{name}.token_rewards returned {len(rows)} rows for "
                        f"{len(prompts)} completions"
                    )
                for j, (row, ids) in enumerate(zip(rows, completion_ids_list, strict=True)):
                    if len(row) != len(ids):
                        raise ValueError(
                            f"{name}.token_rewards gave {len(row)} values for completion {j} "
                            f"of {len(ids)} tokens"
                        )
                rewards = torch.nan_to_num(
                    pad_token_rewards(rows, length, device=total.device), nan=0.0
                )
                total += self.reward_weights[i].to(total.device) * rewards
            self._token_rewards = total
        return rewards_per_func

    def _outcome_scores(self) -> torch.Tensor:
        """Weighted sum ``(N,)`` of the scalar rewards of functions without token rewards."""
        rewards = self._rewards_per_func
        weights = self.reward_weights.to(rewards.device).clone()
        scalar = [i for i in range(rewards.size(1)) if i not in self._token_reward_funcs]
        if not scalar:
            return torch.zeros(rewards.size(0), device=rewards.device)
        weighted = rewards[:, scalar] * weights[scalar].unsqueeze(0)
        scores = weighted.nansum(dim=1)
        scores[torch.isnan(rewards[:, scalar]).all(dim=1)] = torch.nan  # unscorable, as in TRL
        return scores

    def _gather_rows(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.accelerator.num_processes == 1:
            return tensor
        return self.accelerator.gather(self.accelerator.pad_across_processes(tensor, dim=1))

    def _rollout_forward(
        self, output: dict, with_values: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Log-probs ``(B, T)`` of the sampled tokens under the current policy (and the values)."""
        input_ids = torch.cat([output["prompt_ids"], output["completion_ids"]], dim=1)
        attention_mask = torch.cat([output["prompt_mask"], output["completion_mask"]], dim=1)
        logits_to_keep = output["completion_ids"].size(1)
        with torch.no_grad(), self._capturing(with_values):
            logps, _, _ = self._get_per_token_logps_and_entropies(
                self.model,
                input_ids,
                attention_mask,
                logits_to_keep,
                batch_size=self.args.per_device_train_batch_size,
            )
            values = self._values(logits_to_keep) if with_values else None
        return logps, values

    def _objective_advantages(self, output: dict) -> tuple[dict, torch.Tensor]:
        """Replace TRL's advantages by the configured estimator's; returns (output, scores (N,))."""
        mode = "train" if self.model.training else "eval"
        group_size = self.num_generations if mode == "train" else self.num_generations_eval
        mask = (
            output["completion_mask"]
            if "tool_mask" not in output
            else output["completion_mask"] * output["tool_mask"]
        )
        mask = mask.float()
        batch, length = mask.shape
        scores = self._outcome_scores()
        token_rewards = None
        if self._token_rewards is not None:
            token_rewards = torch.zeros(batch, length, device=mask.device)
            width = min(length, self._token_rewards.size(1))
            token_rewards[:, :width] = self._token_rewards[:, :width]
        critic = self.value_head is not None
        values = None
        kl_in_reward_needed = self.beta != 0.0 and self.args.kl_placement == "reward"
        logps = output.get("old_per_token_logps")  # the sampling policy's, when TRL computed them
        if critic or (kl_in_reward_needed and logps is None):
            forward_logps, values = self._rollout_forward(output, with_values=critic)
            logps = forward_logps if logps is None else logps
        if kl_in_reward_needed:
            kl = kl_penalty(
                logps, output["ref_per_token_logps"], self.args.kl_estimator, self.args.kl_clamp
            )
            base = token_rewards if token_rewards is not None else torch.zeros_like(mask)
            token_rewards = kl_in_reward(base, kl, mask, self.beta, self.args.kl_reward_level)
            self._metrics[mode]["kl"].append(((kl * mask).sum() / mask.sum().clamp(min=1.0)).item())
        process_slice = slice(
            self.accelerator.process_index * batch, (self.accelerator.process_index + 1) * batch
        )
        if critic:
            local_scores = scores[process_slice]
            unscorable = torch.isnan(local_scores)
            rewards = torch.nan_to_num(local_scores, nan=0.0).unsqueeze(1) * last_token_onehot(mask)
            if token_rewards is not None:
                rewards = rewards + token_rewards
            valid = mask * ~unscorable.unsqueeze(1)
            advantages, returns = gae(rewards, values, valid, self.args.gamma, self.args.gae_lambda)
            output["advantages"] = whiten(advantages, valid)
            output["old_values"] = values
            output["value_returns"] = returns
            output["value_mask"] = valid
        else:
            advantages = compute_advantages(
                self.advantage_estimator,
                scores,
                self._gather_rows(mask),
                group_size,
                token_rewards=None if token_rewards is None else self._gather_rows(token_rewards),
                gamma=self.args.gamma,
            )
            advantages = advantages[process_slice]
            # constant along every completion (no token rewards): TRL's (B,) layout, less memory
            first = advantages[:, :1]
            if bool((((advantages - first) * mask) == 0).all()):
                advantages = first.squeeze(1)
            output["advantages"] = advantages
        self._relog_advantages(output["advantages"], mask)
        return output, scores

    def _relog_advantages(self, advantages: torch.Tensor, mask: torch.Tensor) -> None:
        """Log our advantages (mean over tokens) in the completions table instead of TRL's."""
        if self.accelerator.num_processes > 1:
            return  # other processes' values are not at hand; keep TRL's entries
        if advantages.dim() == 2:
            advantages = (advantages * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)
        logged = self._logs["advantages"]
        for _ in range(min(advantages.numel(), len(logged))):
            logged.pop()
        logged.extend(advantages.tolist())

    def _generate_and_score_completions(self, inputs):
        output, scores = self._objective_advantages(super()._generate_and_score_completions(inputs))
        if self.args.dynamic_sampling and self.model.training:
            output = self._dynamic_sampling(output, scores)
        return output

    # ------------------------------------------------------------------ DAPO dynamic sampling

    def _more_prompts(self) -> list[dict]:
        """Another generation batch of prompts (each num_generations times), own shuffled order."""
        from trl.trainer.utils import RepeatSampler

        if self._dynamic_batches is None:
            sampler = RepeatSampler(
                data_source=self.train_dataset,
                mini_repeat_count=self.num_generations,
                batch_size=self.args.generation_batch_size // self.num_generations,
                repeat_count=1,
                shuffle=True,
                seed=self.args.seed + 1,
            )
            loader = torch.utils.data.DataLoader(
                self.train_dataset,
                batch_size=self.args.generation_batch_size,
                sampler=sampler,
                collate_fn=self.data_collator,
            )
            self._dynamic_batches = _endless(loader)
        return next(self._dynamic_batches)

    def _dynamic_sampling(self, output: dict, scores: torch.Tensor) -> dict:
        group_size = self.num_generations
        wanted = scores.numel() // group_size
        keep = informative_groups(scores, group_size)
        parts = [_select_rows(output, group_rows(keep, group_size))]
        found, rounds = int(keep.sum()), 0
        while found < wanted and rounds < self.args.dynamic_sampling_max_rounds:
            rounds += 1
            extra, extra_scores = self._objective_advantages(
                GRPOTrainer._generate_and_score_completions(self, self._more_prompts())
            )
            extra_keep = informative_groups(extra_scores, group_size)
            parts.append(_select_rows(extra, group_rows(extra_keep, group_size)))
            found += int(extra_keep.sum())
        if found < wanted:  # bounded rounds: fill with signal-free groups (zero advantage, KL only)
            parts.append(
                _select_rows(
                    output, group_rows((~keep).nonzero().flatten()[: wanted - found], group_size)
                )
            )
        if any(part["advantages"].dim() == 2 for part in parts):  # token-level in some round
            for part in parts:
                if part["advantages"].dim() == 1:
                    part["advantages"] = part["advantages"].unsqueeze(1) * part["completion_mask"]
        merged = _concat_rollouts(parts, self._tokenizer.pad_token_id)
        merged = _select_rows(merged, torch.arange(wanted * group_size, device=scores.device))
        mask = (
            merged["completion_mask"]
            if "tool_mask" not in merged
            else merged["completion_mask"] * merged["tool_mask"]
        )
        merged["num_items_in_batch"] = self.accelerator.gather(mask.sum()).sum()
        self._metrics["train"]["dynamic_sampling/rounds"].append(float(rounds))
        self._metrics["train"]["dynamic_sampling/informative_fraction"].append(
            float(keep.float().mean())
        )
        self._metrics["train"]["dynamic_sampling/filled_fraction"].append(
            min(found, wanted) / wanted
        )
        generated = (1 + rounds) * scores.numel()
        self._metrics["train"]["dynamic_sampling/generated_completions"].append(float(generated))
        if rounds:
            self._log_resampling(int(keep.sum()), wanted, rounds, generated, found)
        return merged

    def _log_resampling(self, informative: int, wanted: int, rounds: int, generated: int, found):
        level = logging.INFO if getattr(self, "_resampling_said", False) else logging.WARNING
        self._resampling_said = True
        logger.log(
            level,
            "dynamic sampling, step %d: %d of %d groups informative, %d extra generation "
            "rounds (%d completions generated, %dx a plain GRPO step's generation); %d of %d "
            "groups filled with signal%s",
            self.state.global_step + 1,
            informative,
            wanted,
            rounds,
            generated,
            1 + rounds,
            min(found, wanted),
            wanted,
            ""
            if found >= wanted
            else " (the rest are signal-free: raise "
            "dynamic_sampling_max_rounds or check the reward)",
        )

    # ------------------------------------------------------------------ loss

    def _compute_loss(self, model, inputs):
        prompt_ids, prompt_mask = inputs["prompt_ids"], inputs["prompt_mask"]
        completion_ids, completion_mask = inputs["completion_ids"], inputs["completion_mask"]
        input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
        attention_mask = torch.cat([prompt_mask, completion_mask], dim=1)
        logits_to_keep = completion_ids.size(1)
        mask = (
            completion_mask if "tool_mask" not in inputs else completion_mask * inputs["tool_mask"]
        )
        mode = "train" if self.model.training else "eval"
        accumulation = self.current_gradient_accumulation_steps if mode == "train" else 1.0

        with self._capturing(self.value_head is not None):
            per_token_logps, entropies, aux_loss = self._get_per_token_logps_and_entropies(
                model,
                input_ids,
                attention_mask,
                logits_to_keep,
                compute_entropy=True,
                compute_aux_loss=self.aux_loss_enabled,
                **{key: inputs.get(key) for key in _MULTIMODAL_KEYS},
            )
            values = self._values(logits_to_keep) if self.value_head is not None else None

        advantages = inputs["advantages"]
        if advantages.dim() == 1:
            advantages = advantages.unsqueeze(1)
        old_per_token_logps = inputs.get("old_per_token_logps")
        old_per_token_logps = (
            per_token_logps.detach() if old_per_token_logps is None else old_per_token_logps
        )

        out = self._policy_loss_fn(
            per_token_logps, old_per_token_logps, advantages, mask, self._clip_config
        )
        per_token_loss = out.loss
        if self.off_policy_mask_threshold is not None:  # DeepSeek-V3.2 off-policy mask (TRL's)
            per_token_loss = per_token_loss * self.get_off_policy_mask(
                advantages=advantages,
                per_token_logps=per_token_logps,
                sampling_per_token_logps=inputs.get(
                    "sampling_per_token_logps", old_per_token_logps
                ),
                mask=mask,
                off_policy_threshold=self.off_policy_mask_threshold,
            )
        entropy_mask = None
        if self.top_entropy_quantile < 1.0:
            entropy_mask = self.get_high_entropy_mask(
                entropies, mask, 1 - self.top_entropy_quantile
            )
            per_token_loss = per_token_loss * entropy_mask
        if self.use_vllm and self.vllm_importance_sampling_correction:
            per_token_loss = (
                per_token_loss * inputs["importance_sampling_ratio"]
            )  # rollout/trainer mismatch
        if self._kl_in_loss:
            per_token_kl = kl_penalty(
                per_token_logps,
                inputs["ref_per_token_logps"],
                self.args.kl_estimator,
                self.args.kl_clamp,
            )
            if self.args.use_bias_correction_kl:
                per_token_kl = (
                    per_token_kl * out.ratio
                )  # IS-weighted KL (DeepSeek-V3.2): reverse-KL gradient
            per_token_loss = per_token_loss + self.beta * per_token_kl  # L_t + beta * KL_t

        if self.args.loss_aggregation == "token-mean":
            # tokens of the whole accumulated generation batch, as TRL's 'dapo'
            normalizer = (
                inputs["num_items_in_batch"].clamp(min=1.0) / self.accelerator.num_processes
            )
            if mode == "train":
                normalizer = (
                    normalizer
                    * self.current_gradient_accumulation_steps
                    / self.args.steps_per_generation
                )
            loss = aggregate_loss(per_token_loss, mask, "token-mean", normalizer=normalizer)
        else:
            loss = (
                aggregate_loss(
                    per_token_loss,
                    mask,
                    self.args.loss_aggregation,
                    max_len=self.max_completion_length,
                )
                / accumulation
            )
        policy_loss_value = loss.detach()

        if (
            self.args.entropy_coef != 0.0
        ):  # entropy bonus L - c H, H the mean entropy of the acting tokens
            effective_mask = mask if entropy_mask is None else mask * entropy_mask
            entropy = (
                (entropies * effective_mask).sum()
                / effective_mask.sum().clamp(min=1.0)
                / accumulation
            )
            loss = loss - self.args.entropy_coef * entropy
            self._metrics[mode]["policy_loss"].append(
                self.accelerator.gather(policy_loss_value).nanmean().item()
            )
        if self.aux_loss_enabled:
            loss = loss + self.router_aux_loss_coef * aux_loss / accumulation
            self._metrics[mode]["aux_loss"].append(
                self.accelerator.gather_for_metrics(aux_loss).mean().item()
            )
        if values is not None:
            value_loss = clipped_value_loss(
                values,
                inputs["old_values"],
                inputs["value_returns"],
                inputs["value_mask"],
                self.args.value_clip,
            )
            loss = loss + self.args.value_loss_coef * value_loss / accumulation
            self._metrics[mode]["value/loss"].append(value_loss.item())
            self._metrics[mode]["value/mean"].append(values.detach()[mask.bool()].mean().item())

        metrics = {
            "entropy": entropies,
            "clip_ratio/low_mean": out.clipped_low,
            "clip_ratio/high_mean": out.clipped_high,
        }
        if self._kl_in_loss:
            metrics["kl"] = per_token_kl.detach()
        self._log_masked_means(mode, metrics, mask)
        return loss

    def _log_masked_means(
        self, mode: str, metrics: dict[str, torch.Tensor], mask: torch.Tensor
    ) -> None:
        """Log each ``(B, T)`` metric's mean over the valid tokens of all processes (one reduce)."""
        mask = mask.float()
        sums = [(value.float().expand_as(mask) * mask).sum() for value in metrics.values()]
        totals = self.accelerator.reduce(torch.stack([*sums, mask.sum()]), reduction="sum").tolist()
        for name, total in zip(metrics, totals[:-1], strict=True):
            self._metrics[mode][name].append(total / max(totals[-1], 1.0))


_MULTIMODAL_KEYS = (
    "pixel_values",
    "image_grid_thw",
    "num_images",
    "pixel_attention_mask",
    "spatial_shapes",
    "num_tiles",
    "image_sizes",
    "token_type_ids",
    "mm_token_type_ids",
    "image_position_ids",
)

# how each rollout field is padded when rollouts of different lengths are merged: (side, value)
_PADDING = {
    "prompt_ids": ("left", None),
    "prompt_mask": ("left", 0),
    "completion_ids": ("right", None),
    "completion_mask": ("right", 0),
    "tool_mask": ("right", 1),
}


def _endless(loader):
    while True:
        yield from loader


def _select_rows(output: dict, rows: torch.Tensor) -> dict:
    """The rollout restricted to ``rows`` (batch-dimension tensors indexed, scalars kept)."""
    selected = {}
    for key, value in output.items():
        if isinstance(value, torch.Tensor) and value.dim() > 0:
            selected[key] = value[rows.to(value.device)]
        elif isinstance(value, list):
            selected[key] = [value[i] for i in rows.tolist()]
        else:
            selected[key] = value
    return selected


def _concat_rollouts(parts: list[dict], pad_token_id: int) -> dict:
    """Merge rollouts along the batch, re-padding prompts on the left, completions on the right."""
    merged = {}
    for key in parts[0]:
        values = [part[key] for part in parts]
        first = values[0]
        if key in _MULTIMODAL_KEYS or key in ("images", "num_images"):
            raise ValueError("dynamic_sampling does not support multimodal rollouts yet")
        if not isinstance(first, torch.Tensor) or first.dim() == 0:
            merged[key] = first
            continue
        if first.dim() == 1:
            merged[key] = torch.cat(values)
            continue
        side, pad_value = _PADDING.get(key, ("right", 0))
        pad_value = pad_token_id if pad_value is None else pad_value
        width = max(value.size(1) for value in values)
        padded = []
        for value in values:
            missing = width - value.size(1)
            if missing:
                filler = value.new_full((value.size(0), missing), pad_value)
                value = torch.cat([filler, value] if side == "left" else [value, filler], dim=1)
            padded.append(value)
        merged[key] = torch.cat(padded)
    return merged
