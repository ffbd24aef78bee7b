"""`GitHubOidcProvider`: the IAM OIDC identity provider GitHub Actions tokens are checked against."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config import GitHubSettings
from .context import AwsContext, tags
from .documents import AUDIENCE, oidc_provider_arn


@dataclass(frozen=True)
class GitHubOidcProviderArgs:
    github: GitHubSettings
    """`oidcProvider` (create, existing or an ARN) and the issuer host."""
    environment: str
    """Environment name for tags."""
    aws: AwsContext
    """Account, region and partition of the stack."""


class GitHubOidcProvider(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    """The provider's ARN."""
    known_arn: str
    """The same ARN as a plain string, known at preview, for trust policies."""
    issuer: str
    """Issuer host: the prefix of the `aud` and `sub` condition keys."""

    def __init__(self, name: str, args: GitHubOidcProviderArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecr-platform:index:GitHubOidcProvider", name, None, opts)
        mode, issuer = args.github.oidc_provider, args.github.issuer
        self.issuer = issuer
        url = f"https://{issuer}"
        if mode == "create":
            provider = aws.iam.OpenIdConnectProvider(
                name,
                url=url,
                # AWS trusts GitHub's issuer through its own CA store; no thumbprint to pin or rotate.
                client_id_lists=[AUDIENCE],
                tags=tags(args.environment),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.known_arn = oidc_provider_arn(args.aws.partition, args.aws.account, issuer)
            self.arn = provider.arn
            self.resource: aws.iam.OpenIdConnectProvider | None = provider
        else:
            self.known_arn = (
                aws.iam.get_open_id_connect_provider(url=url).arn if mode == "existing" else mode
            )
            self.arn = pulumi.Output.from_input(self.known_arn)
            self.resource = None
        self.register_outputs({"arn": self.arn})
