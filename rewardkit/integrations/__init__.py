"""In-process adapters: rewardkit rewards called the way verl, OpenRLHF and slime call a
reward function, with no server (one thin module each).

Frameworks load these files themselves, so each adapter finds its reward by name: from
keyword arguments where the framework passes them (verl's ``reward_kwargs``), else from
the environment: ``REWARDKIT_REWARD`` (a reward spec, ``math@strict=true``) or
``REWARDKIT_CONFIG`` (a ``rewardkit serve`` config file) with ``REWARDKIT_ROUTE`` (its
route; default: the config's default), and ``REWARDKIT_LABEL_COLUMN``. With none of them
set the reward is ``math``.
"""
