"""Demo data for the embedded default: filled in once the features exist."""


def seed_demo_data() -> None:
    return None


def register_demo_users_with_standin(standin_wsgi) -> None:
    return None
