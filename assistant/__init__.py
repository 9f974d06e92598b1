"""环保咨询助手 — consultation assistant of the Zhoushan Ecology & Environment Bureau."""

__version__ = "0.1.0"
