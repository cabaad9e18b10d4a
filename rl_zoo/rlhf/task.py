"""The synthetic task: a small letter language, prompts, demonstrations and a hidden gold reward.

Vocabulary: PAD=0, BOS=1, SEP=2, EOS=3 and ``num_letters`` letters (ids 4, 5, ...; shown as a, b, ...).

* **The language** (pretraining corpus): strings of letters drawn from a fixed random bigram chain
  with no letter repeated twice in a row, between BOS and EOS.
* **Prompts**: ``prompt_len`` distinct letters. **Responses** follow SEP and end with EOS.
* **Gold reward** (the "human", hidden from every model; ``gold_reward``): for the letters before EOS,
  +1 per letter that occurs in the prompt ("on topic"), -2 per token equal to the one before it
  ("stutter": a repeated special token such as PAD PAD counts too), -1 per special token, and -3 if the
  response never ends (no EOS within the limit).
  The best responses use the prompt's letters, vary them, and stop: at most ``max_new_tokens - 1``.
* **Demonstrations** (SFT): a mediocre demonstrator writes 2 to 6 letters, each draw from the prompt with
  probability ``demo_on_topic`` and otherwise from the bigram chain, never stuttering (a draw that repeats the
  letter before it is drawn again; only prompt draws can, so at 0.6 about 56% of the letters kept are prompt
  draws), then EOS.

Stutters and endless responses are rare in the demonstrations and so in the SFT samples that the
reward model is trained to compare: the proxy learns little about them, which is where optimising
the proxy too hard can part from the gold reward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import permutations

import jax
import jax.numpy as jnp
import numpy as np

from envs.language import TokenLayout

FIRST_LETTER = 4
#: prompts kept at most (drawn at random from all arrangements beyond it)
MAX_PROMPTS = 50_000
#: arrangements listed in full up to this many (larger sets are sampled without listing them)
ENUMERATE_UP_TO = 1_000_000


@dataclass(frozen=True)
class TaskSpec:
    """Sizes of the synthetic task (defaults: the pipeline's default size)."""

    num_letters: int = 8
    """Letters in the language (4-16)."""
    prompt_len: int = 4
    """Letters per prompt (distinct)."""
    max_new_tokens: int = 8
    """Longest response, EOS included."""
    corpus_docs: int = 4000
    """Documents in the pretraining corpus."""
    demos: int = 2000
    """Prompt -> demonstration pairs for SFT."""
    demo_on_topic: float = 0.6
    """Probability that a demonstrator's draw is from the prompt (else from the bigram chain). A draw that repeats
    the letter before it is drawn again, and only prompt draws can repeat, so the letters kept come from prompt
    draws a little less often (about 0.56 at 0.6)."""
    eval_fraction: float = 0.2
    """Share of the prompts held out for evaluation (never trained on)."""
    data_seed: int = 1234
    """Seed of the language (bigram chain), the corpora and the prompt split; model seeds are separate."""

    @property
    def layout(self) -> TokenLayout:
        return TokenLayout(FIRST_LETTER + self.num_letters, self.prompt_len, self.max_new_tokens)

    def validate(self) -> None:
        from rl_zoo.config import check, check_types

        check_types(self)
        check(self.num_letters >= 2, "num_letters", self.num_letters, "must be >= 2")
        check(1 <= self.prompt_len <= self.num_letters, "prompt_len", self.prompt_len,
              f"must be in [1, num_letters = {self.num_letters}] (prompt letters are distinct)")
        check(self.max_new_tokens >= 3, "max_new_tokens", self.max_new_tokens,
              "must be >= 3 (a demonstration has at least two letters, then EOS)")
        check(self.prompt_len >= 2 or self.demo_on_topic < 1.0, "demo_on_topic", self.demo_on_topic,
              "must be < 1 with prompt_len = 1: demonstrations never repeat a letter, and a one-letter prompt "
              "offers only one")
        check(self.corpus_docs >= 1, "corpus_docs", self.corpus_docs, "must be >= 1: the pretraining corpus cannot be empty")
        check(self.demos >= 1, "demos", self.demos, "must be >= 1: SFT needs demonstrations")
        check(0.0 <= self.demo_on_topic <= 1.0, "demo_on_topic", self.demo_on_topic, "must be in [0, 1]")
        check(0.0 < self.eval_fraction < 1.0, "eval_fraction", self.eval_fraction, "must be in (0, 1)")
        check(self.data_seed >= 0, "data_seed", self.data_seed, "must be >= 0 (numpy's generator seed)")


class TaskData:
    """Everything the four stages read: corpus, demonstrations, train / eval prompts (numpy int32)."""

    def __init__(self, spec: TaskSpec):
        spec.validate()
        self.spec = spec
        self.layout = spec.layout
        rng = np.random.default_rng(spec.data_seed)
        self.bigram = _bigram_chain(rng, spec.num_letters)  # [K, K], zero diagonal
        prompts = _prompts(rng, spec.num_letters, spec.prompt_len)
        prompts = prompts[rng.permutation(len(prompts))] + FIRST_LETTER
        n_eval = max(1, int(round(spec.eval_fraction * len(prompts))))
        self.eval_prompts, self.train_prompts = prompts[:n_eval], prompts[n_eval:]
        if len(self.train_prompts) == 0:
            raise ValueError(f"only {len(prompts)} distinct prompts: none left for training after holding out eval_fraction")
        self.corpus = self._corpus(rng)
        self.demos = self._demos(rng)

    def _chain(self, rng, first: int, n: int) -> list[int]:
        out = [first]
        while len(out) < n:
            out.append(int(rng.choice(self.spec.num_letters, p=self.bigram[out[-1]])))
        return out

    def _corpus(self, rng) -> np.ndarray:
        """``[corpus_docs, context]``: BOS, 2 .. context-2 letters of the chain, EOS, PAD."""
        lay = self.layout
        docs = np.full((self.spec.corpus_docs, lay.context), lay.pad, np.int32)
        for i in range(len(docs)):
            n = int(rng.integers(2, lay.context - 1))
            letters = np.array(self._chain(rng, int(rng.integers(self.spec.num_letters)), n)) + FIRST_LETTER
            docs[i, 0], docs[i, 1 : 1 + n], docs[i, 1 + n] = lay.bos, letters, lay.eos
        return docs

    def _demos(self, rng) -> np.ndarray:
        """``[demos, context]``: BOS, prompt, SEP, the demonstrator's response, EOS, PAD."""
        lay, spec = self.layout, self.spec
        out = np.full((spec.demos, lay.context), lay.pad, np.int32)
        for i in range(spec.demos):
            prompt = self.train_prompts[rng.integers(len(self.train_prompts))]
            n = int(rng.integers(2, min(6, lay.max_new_tokens - 1) + 1))
            resp = []
            while len(resp) < n:
                if rng.random() < spec.demo_on_topic:
                    c = int(rng.choice(prompt)) - FIRST_LETTER
                else:
                    prev = resp[-1] if resp else int(rng.integers(spec.num_letters))
                    c = int(rng.choice(spec.num_letters, p=self.bigram[prev]))
                if not resp or c != resp[-1]:
                    resp.append(c)
            s = lay.response_start
            out[i, 0], out[i, 1 : 1 + lay.prompt_len], out[i, s - 1] = lay.bos, prompt, lay.sep
            out[i, s : s + n], out[i, s + n] = np.array(resp) + FIRST_LETTER, lay.eos
        return out


def _prompts(rng, k: int, p: int, keep: int = MAX_PROMPTS) -> np.ndarray:
    """``[n, p]`` distinct prompts of ``p`` distinct letters out of ``k``: all of them up to ``keep``, else
    ``keep`` of them at random. Up to ``ENUMERATE_UP_TO`` they are listed and drawn from; beyond, drawn
    directly (16 letters in prompts of 8 make 16!/8! = 519 million arrangements: gigabytes to list)."""
    total = math.perm(k, p)
    if total <= ENUMERATE_UP_TO:
        prompts = np.array(list(permutations(range(k), p)), np.int32)
        if len(prompts) > keep:
            prompts = prompts[rng.choice(len(prompts), keep, replace=False)]
        return prompts
    seen: dict[tuple[int, ...], None] = {}
    while len(seen) < keep:  # under 5% of the draws repeat one: total > ENUMERATE_UP_TO = 20 x keep
        for row in np.argsort(rng.random((keep, k)), axis=1)[:, :p]:
            seen.setdefault(tuple(int(c) for c in row))
            if len(seen) == keep:
                break
    return np.array(list(seen), np.int32)


def _bigram_chain(rng, k: int) -> np.ndarray:
    """A random bigram transition matrix over ``k`` letters with no self-transitions (rows sum to 1)."""
    w = rng.gamma(0.5, size=(k, k))
    np.fill_diagonal(w, 0.0)
    return w / w.sum(1, keepdims=True)


def gold_reward(layout: TokenLayout, tokens: jax.Array) -> jax.Array:
    """The hidden "human" score of one buffer ``tokens [context]`` (module docstring).

    Example (letters a..h = ids 4..11): prompt "abcd", response "a b a EOS" -> 3 on topic = 3.0;
    "a a EOS" -> 2 on topic - 2 (one stutter) = 0.0; "e f" without EOS (limit 2) -> 0 - 3 = -3.0.
    """
    s, r = layout.response_start, layout.max_new_tokens
    prompt = tokens[1 : 1 + layout.prompt_len]
    resp = tokens[s : s + r]
    is_eos = resp == layout.eos
    has_eos = is_eos.any()
    end = jnp.where(has_eos, jnp.argmax(is_eos), r)
    idx = jnp.arange(r)
    valid = idx < end
    letter = resp >= FIRST_LETTER
    on_topic = valid & letter & (resp[:, None] == prompt[None, :]).any(-1)
    stutter = valid & (idx > 0) & (resp == jnp.roll(resp, 1))
    special = valid & ~letter
    return (on_topic.sum() - 2.0 * stutter.sum() - 1.0 * special.sum() - 3.0 * (~has_eos)).astype(jnp.float32)


def detokenize(layout: TokenLayout, tokens) -> tuple[str, str]:
    """``(prompt, response)`` as text: letters a, b, ...; EOS ends the response ("..." if it never did)."""
    tokens = np.asarray(tokens)
    special = {layout.pad: "_", layout.bos: "<s>", layout.sep: "|", layout.eos: "</s>"}
    word = lambda t: special.get(int(t), chr(ord("a") + int(t) - FIRST_LETTER))  # noqa: E731
    prompt = "".join(word(t) for t in tokens[1 : 1 + layout.prompt_len])
    out = []
    for t in tokens[layout.response_start :]:
        if int(t) == layout.eos:
            return prompt, " ".join(out)
        out.append(word(t))
    return prompt, " ".join(out) + " ..."
