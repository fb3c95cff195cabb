"""Statistical products: a static, bilingual catalogue of standard tables and graphs."""

from migstat.publish.site import PublishResult, publish

__all__ = ["PublishResult", "publish"]
