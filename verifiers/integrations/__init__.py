"""Adapters that fit `verify()` into the training loops people use, with no glue code of their own.

- `verifiers.integrations.trl`: `reward_function(...)` / `async_reward_function(...)` / `reward_functions(...,
  aspects=[...])` for TRL's `reward_funcs`.
- `verifiers.integrations.verl`: `compute_score_async` (verl's reward loop), `compute_score` and
  `compute_score_batch`, loadable by verl from the file path.
- `verifiers.integrations.openrlhf`: `reward_func(queries, prompts, labels)` for `--reward.remote_url file.py`.
- `verifiers.integrations.server`: the HTTP reward server (`verifiers serve`) speaking OpenRLHF's remote-reward
  protocol.

They share `verifiers.integrations.scoring`: samples built from the loop's columns, one warm executor per
configuration, concurrent calls merged into batches (group-dependent rewards still per call: `verifiers.groups`),
the mapping of ERROR/TIMEOUT/UNDECIDED to a reward (None where the loop accepts it, else a configured number,
always reported beside the reward or, where the loop shows nothing of ours, on the log), and verdict aspects as
separate reward components.
"""
