"""RLHF in miniature (pretraining, then InstructGPT's three steps, Ouyang et al. 2022) on a synthetic language whose
"human preference" is a known gold reward:

    task.py          the language, its corpora, prompts, demonstrations and the hidden gold reward
    lm.py            causal LM loss, pretraining and supervised fine-tuning
    generate.py      sampling responses through the token env (envs/language), response log-probs
    reward_model.py  comparisons labelled by the gold reward with Bradley-Terry noise, the RM and its loss
    policy_opt.py    RL against the RM with a per-token KL penalty: PPO-clip, PPO adaptive-KL, RLOO, GRPO
    pipeline.py      the four stages as one command (``rl-zoo rlhf``) writing a run directory
"""
