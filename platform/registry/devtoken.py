"""Mint a development token for the tenant configured by FSP_* variables: `python -m registry.devtoken --role registrar`."""
import argparse
import uuid

from registry.config import Settings
from registry.security.auth import DevelopmentIssuer
from registry.security.keys import load_keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", action="append", required=True, help="realm role; repeat for several")
    parser.add_argument("--subject", default="dev-user")
    parser.add_argument("--institution", type=uuid.UUID, help="institution a registrar is bound to")
    args = parser.parse_args()
    settings = Settings()
    issuer = DevelopmentIssuer(load_keys(settings.keys_dir).token_private_pem, issuer=settings.issuer,
                               audience=settings.token_audience)
    print(issuer.mint(args.subject, args.role, institution_id=args.institution))


if __name__ == "__main__":
    main()
