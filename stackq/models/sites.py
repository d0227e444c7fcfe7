from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class Site(Base):
    """A Stack Exchange site, known by its `api_site_parameter`."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    api_site_parameter: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    site_url: Mapped[str] = mapped_column(String(200))

    def question_url(self, question_id):
        return f"{self.site_url}/questions/{question_id}"
