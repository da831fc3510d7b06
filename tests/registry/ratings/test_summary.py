"""The summary per institution (count, mean, distribution) that feeds the credit evaluation, and /metrics."""
import uuid
from datetime import UTC, datetime

from sqlmodel import Session, select

from registry.ratings import service
from registry.ratings.models import Rating


def rate(client, headers, booking, score):
    answer = client.post(f"/api/v1/my/bookings/{booking['id']}/rating", json={"score": score}, headers=headers)
    assert answer.status_code == 201, answer.text


def test_the_summary_counts_averages_and_distributes_scores(client, admin, registrar, citizen, hall, booked, funeral_home):
    for hour, score in zip((8, 9, 10, 11), (5, 4, 4, 2), strict=True):
        rate(client, citizen, booked(citizen, hall, hour=hour), score)

    summary = client.get("/api/v1/ratings/summary", headers=admin).json()

    assert summary["year"] is None
    assert summary["data"] == [{"institution_id": funeral_home["id"], "count": 4, "mean": 3.75,  # (5+4+4+2)/4
                                "distribution": {"1": 0, "2": 1, "3": 0, "4": 2, "5": 1}}]
    assert client.get("/api/v1/ratings/summary", headers=registrar).json()["data"][0]["count"] == 4
    assert client.get("/api/v1/ratings/summary", headers=citizen).status_code == 403


def test_the_summary_of_a_year_counts_the_ratings_given_in_it_china_time(app, client, citizen, hall, booked, funeral_home):
    for hour, score in ((8, 3), (9, 5)):
        rate(client, citizen, booked(citizen, hall, hour=hour), score)
    with Session(app.state.ctx.engine) as session:
        rows = session.exec(select(Rating).order_by(Rating.score)).all()
        # 2025-12-31 16:30 UTC is already 2026-01-01 in China
        rows[0].created_at = datetime(2025, 12, 31, 16, 30, tzinfo=UTC)
        rows[1].created_at = datetime(2025, 12, 31, 15, 30, tzinfo=UTC)
        session.add_all(rows)
        session.commit()
        in_2026 = service.summary_by_institution(session, year=2026)
        in_2025 = service.summary_by_institution(session, year=2025)

    assert [(r.institution_id, r.count, r.mean) for r in in_2026.data] == [(uuid.UUID(funeral_home["id"]), 1, 3.0)]
    assert [(r.count, r.mean) for r in in_2025.data] == [(1, 5.0)]


def test_metrics_show_count_and_mean_per_institution_type(client, citizen, hall, booked):
    for hour, score in ((8, 5), (9, 2)):
        rate(client, citizen, booked(citizen, hall, hour=hour), score)

    text = client.get("/metrics").text

    assert 'fsp_ratings{institution_type="funeral_home"} 2.0' in text
    assert 'fsp_ratings_mean_score{institution_type="funeral_home"} 3.5' in text
    assert 'fsp_ratings{institution_type="crematorium"} 0.0' in text
